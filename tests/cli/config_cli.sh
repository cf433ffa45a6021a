#!/usr/bin/env bash
# bookcast-config as an operator meets it: a bad file is refused with its name and the key and
# exit status 2; overrides show their origin; docs/config.md carries the schema's table verbatim.
# usage: config_cli.sh <path to bookcast-config> <source dir>
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
check() { # description, command...
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; failures=$((failures + 1)); fi
}
unset BOOKCAST_CONFIG
cd "$tmp" || exit 1

printf '{"recorder":{"db_path":"x.db","flush_every":3}}\n' > bad.json
"$bin" --config bad.json >out.txt 2>err.txt
rc=$?
check "unknown key exits 2" test $rc -eq 2
check "unknown key message names file and key" \
  grep -q 'config error: bad.json: unknown key "recorder.flush_every"' err.txt

printf '{"bus":{"data":"tcp://127.0.0.1:99999"}}\n' > range.json
"$bin" --config range.json 2>err.txt
check "bad endpoint exits 2" test $? -eq 2
check "bad endpoint message names file and key" grep -q 'range.json: key "bus.data"' err.txt

printf '{"log":{"level":"info",}}\n' > syntax.json
"$bin" --config syntax.json 2>err.txt
check "invalid JSON exits 2" test $? -eq 2
check "invalid JSON message has file:line:column" grep -q 'syntax.json:1:[0-9]*: invalid JSON' err.txt

BOOKCAST_LOG_MAX_FILES=lots "$bin" 2>err.txt
check "bad environment value exits 2" test $? -eq 2
check "bad environment value names the variable" \
  grep -q 'environment BOOKCAST_LOG_MAX_FILES: key "log.max_files"' err.txt

"$bin" --config "$src/config/bookcast.json" >out.txt 2>&1
check "shipped config is valid" test $? -eq 0

BOOKCAST_RECORDER_DB_PATH=/srv/h.db "$bin" --config "$src/config/bookcast.json" \
  --set log.level=debug --explain >out.txt 2>&1
check "explain shows the environment origin" \
  grep -q '^recorder.db_path = "/srv/h.db"  (env BOOKCAST_RECORDER_DB_PATH)$' out.txt
check "explain shows the --set origin" grep -q '^log.level = "debug"  (--set)$' out.txt
check "explain shows the file origin" grep -q "^bus.data = .*($src/config/bookcast.json)$" out.txt

"$bin" --docs >table.md
sed -n '/<!-- keys:begin -->/,/<!-- keys:end -->/p' "$src/docs/config.md" | sed '1d;$d' >docs-table.md
check "docs/config.md holds the schema's key table verbatim" diff -u table.md docs-table.md

"$bin" --print >printed.json
"$bin" --config printed.json >/dev/null
check "printed configuration loads back" test $? -eq 0

"$bin" --help >out.txt
check "--help exits 0 and documents --set" grep -q -- '--set key.path=value' out.txt
"$bin" --version >out.txt
check "--version prints the version" grep -Eq '^bookcast-config [0-9]+\.[0-9]+\.[0-9]+$' out.txt

echo "$failures failed"
[ $failures -eq 0 ]
