#!/usr/bin/env bash
# bookcast-capture-frames on the real captures: every hftbacktest file and cryptofeed pair converts
# into a frame file whose frames all decode, with one frame per capture line (counted here from
# the text, independently of the program) plus the CONN_UP; converting again gives the same
# bytes; and malformed input is refused with its file and line, leaving no output behind.
# usage: capture_frames.sh <path to bookcast-capture-frames> <binance-real-data directory>
set -u
bin=$1
data=$2
if [ ! -d "$data" ]; then
  echo "FAILED: the capture directory $data does not exist; these tests need the real Binance"
  echo "captures (binance-real-data/, see its README.md) next to the source tree"
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
check() { # description, command...
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; failures=$((failures + 1)); fi
}

# Prints the count of kind $2 (WS_TEXT, SNAPSHOT, …, or "frames") in the check output $1.
count_of() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

# Runs `check` on frame file $1, the counts into $1.counts. Every other kind must be 0.
expect_counts() { # file ws_text snapshot conn_up
  local f=$1 ws=$2 snap=$3 up=$4
  if ! "$bin" check "$f" >"$f.counts" 2>"$f.err"; then
    echo "FAILED: check $(basename "$f"): $(cat "$f.err")"; failures=$((failures + 1)); return
  fi
  local got="$(count_of "$f.counts" WS_TEXT) $(count_of "$f.counts" SNAPSHOT)"
  got="$got $(count_of "$f.counts" CONN_UP) $(count_of "$f.counts" frames)"
  local others
  others=$(awk '$1 ~ /^(SNAPSHOT_ERROR|CONN_DOWN|OVERFLOW)$/ { s += $2 } END { print s + 0 }' \
    "$f.counts")
  check "$(basename "$f"): WS_TEXT SNAPSHOT CONN_UP frames = $got (expected $ws $snap $up $((ws + snap + up))), no other kind" \
    test "$got $others" = "$ws $snap $up $((ws + snap + up)) 0"
}

# ---- hftbacktest: each file through `gzip -dc`, and once more from a decompressed file ---------
# The expected counts are the lines of each file: 1 SNAPSHOT per {"lastUpdateId" line, a WS_TEXT
# per other line. They are written out here as well as counted, so a changed data set is noticed.
hft() { # name market symbol expected_ws expected_snapshots
  local name=$1 market=$2 symbol=$3 ws=$4 snap=$5
  local out=$tmp/$name.frames
  gzip -dc "$data/$name.gz" | "$bin" hftbacktest --market "$market" --symbol "$symbol" - "$out"
  check "$name converts from a pipe" test "${PIPESTATUS[1]}" -eq 0
  gzip -dc "$data/$name.gz" >"$tmp/$name.txt"
  local lines snaps
  lines=$(wc -l <"$tmp/$name.txt")
  snaps=$(grep -c '^[0-9]* {"lastUpdateId":' "$tmp/$name.txt")
  check "$name has $ws + $snap lines ($((lines - snaps)) + $snaps counted)" \
    test "$((lines - snaps)) $snaps" = "$ws $snap"
  expect_counts "$out" "$ws" "$snap" 1
  "$bin" hftbacktest --market "$market" --symbol "$symbol" "$tmp/$name.txt" "$out.again"
  check "$name: a second conversion (from a file) gives identical bytes" cmp -s "$out" "$out.again"
  rm -f "$tmp/$name.txt" "$out.again"
}
hft spot_btcusdt_20240808 spot BTCUSDT 41248 1
hft spot_btcusdt_20240809 spot BTCUSDT 58325 0
hft usdm_btcusdt_20240808 usdm BTCUSDT 93953 1
hft cm_ethusd_perp_20240808 coinm ETHUSD_PERP 40453 1

check "CONN_UP lists the file's streams in order of first appearance" \
  grep -a -q -F '{"url":"wss://capture.invalid/stream","streams":["btcusdt@depth@100ms","btcusdt@bookTicker","btcusdt@trade"]}' \
  "$tmp/spot_btcusdt_20240808.frames"

# The second spot day continues the first: converted together they are one connection.
gzip -dc "$data/spot_btcusdt_20240808.gz" "$data/spot_btcusdt_20240809.gz" |
  "$bin" hftbacktest --market spot --symbol BTCUSDT --instance 0x5f3a9c0e12d4b871 - "$tmp/spot_2days.frames"
check "both spot days convert as one input" test "${PIPESTATUS[1]}" -eq 0
expect_counts "$tmp/spot_2days.frames" $((41248 + 58325)) 1 1

# ---- cryptofeed: the three WebSocket + REST pairs --------------------------------------------
cf() { # prefix market expected_ws expected_snapshots
  local name=$1 market=$2 ws=$3 snap=$4
  local out=$tmp/$name.frames
  "$bin" cryptofeed --market "$market" "$data/$name.ws.1.0" "$data/$name.http.0.0" "$out"
  check "$name converts" test $? -eq 0
  local ws_lines http_lines
  ws_lines=$(grep -c '^[0-9][0-9.]*: ' "$data/$name.ws.1.0")
  http_lines=$(grep -c '^https://[^ ]*symbol=[^ ]* -> [0-9.]*: {"lastUpdateId":' "$data/$name.http.0.0")
  check "$name has $ws frame lines and $snap snapshot lines ($ws_lines, $http_lines counted)" \
    test "$ws_lines $http_lines" = "$ws $snap"
  expect_counts "$out" "$ws" "$snap" 1
  "$bin" cryptofeed --market "$market" "$data/$name.ws.1.0" "$data/$name.http.0.0" "$out.again"
  check "$name: a second conversion gives identical bytes" cmp -s "$out" "$out.again"
  local streams
  streams=$(head -n 1 "$data/$name.ws.1.0" | sed 's/.*streams=\([^ &]*\).*/\1/; s|/|","|g')
  check "$name: CONN_UP lists the url's streams" grep -a -q -F \
    "{\"url\":\"wss://capture.invalid/stream\",\"streams\":[\"$streams\"]}" "$out"
}
cf cryptofeed_BINANCE spot 265 4
cf cryptofeed_BINANCE_FUTURES usdm 1535 4
cf cryptofeed_BINANCE_DELIVERY coinm 4371 10

# Frame files concatenate: two captures of different instances make one valid file.
"$bin" cryptofeed --market spot --instance 2 "$data/cryptofeed_BINANCE.ws.1.0" \
  "$data/cryptofeed_BINANCE.http.0.0" "$tmp/cf_instance2.frames"
cat "$tmp/spot_btcusdt_20240808.frames" "$tmp/cf_instance2.frames" >"$tmp/both.frames"
expect_counts "$tmp/both.frames" $((41248 + 265)) $((1 + 4)) 2
# … but the same instance twice reuses connection 1, which check refuses.
cat "$tmp/spot_btcusdt_20240808.frames" "$tmp/cryptofeed_BINANCE.frames" >"$tmp/reused.frames"
"$bin" check "$tmp/reused.frames" >/dev/null 2>"$tmp/err.txt"
check "check refuses a connection that starts again" test $? -eq 1
check "… naming the record" grep -q 'record at byte offset 12713740 (frame 41251): ' "$tmp/err.txt"

# ---- malformed input -------------------------------------------------------------------------
# Inputs come from files, not pipes: `refused` must run in this shell to count its failures.
refused() { # description, expected stderr text, command...
  local what=$1 text=$2; shift 2
  "$@" >/dev/null 2>"$tmp/err.txt"
  local rc=$?
  check "$what: exit 1" test $rc -eq 1
  check "$what: says \"$text\"" grep -q -F -- "$text" "$tmp/err.txt"
}
printf '1723161253937085768 {"stream":"btcusdt@trade","data":{}}\nnot a line\n' >"$tmp/bad.txt"
refused "hftbacktest line without a time" "bad.txt:2: receive time" \
  "$bin" hftbacktest --market spot --symbol BTCUSDT "$tmp/bad.txt" "$tmp/out.frames"
check "no output (nor .tmp) is left after a failure" test ! -e "$tmp/out.frames" -a ! -e "$tmp/out.frames.tmp"
printf '1723161253937085768 {"stream":"btcusdt@trade","data":{"e":"tr\n' >"$tmp/cut.txt"
refused "hftbacktest line cut short" "stdin:1: payload does not end with '}'" \
  "$bin" hftbacktest --market spot --symbol BTCUSDT - "$tmp/out.frames" <"$tmp/cut.txt"
printf '1 {"stream":"btcusdt@trade","data":{}}\n\n2 {"stream":"btcusdt@trade","data":{}}\n' >"$tmp/gap.txt"
refused "empty line in the middle" "stdin:2: empty line in the middle" \
  "$bin" hftbacktest --market spot --symbol BTCUSDT - "$tmp/out.frames" <"$tmp/gap.txt"
gzip -dc "$data/cm_ethusd_perp_20240808.gz" | head -n 30 >"$tmp/cm30.txt"
refused "a snapshot body naming another symbol" "stdin:27: the snapshot body names another symbol than ETHUSD_M" \
  "$bin" hftbacktest --market coinm --symbol ETHUSD_M - "$tmp/out.frames" <"$tmp/cm30.txt"
{ head -n 3 "$data/cryptofeed_BINANCE.ws.1.0"; echo '1633998512.06335690001: {"stream":"x"}'; } >"$tmp/cf.ws"
refused "cryptofeed time finer than a nanosecond" "cf.ws:4: time \"1633998512.06335690001\"" \
  "$bin" cryptofeed --market spot "$tmp/cf.ws" "$data/cryptofeed_BINANCE.http.0.0" "$tmp/out.frames"
sed 's/symbol=NKNUSDT/sym=NKNUSDT/' "$data/cryptofeed_BINANCE.http.0.0" >"$tmp/cf.http"
refused "cryptofeed REST line without symbol=" "cf.http:1: url has no symbol=" \
  "$bin" cryptofeed --market spot "$data/cryptofeed_BINANCE.ws.1.0" "$tmp/cf.http" "$tmp/out.frames"
refused "output directory missing" "$tmp/no-dir/out.frames.tmp" \
  "$bin" cryptofeed --market spot "$data/cryptofeed_BINANCE.ws.1.0" \
  "$data/cryptofeed_BINANCE.http.0.0" "$tmp/no-dir/out.frames"
head -c 100000 "$tmp/cryptofeed_BINANCE.frames" >"$tmp/cut.frames"
refused "check of a cut file" "truncated frame" "$bin" check "$tmp/cut.frames"
"$bin" hftbacktest --market spot - "$tmp/out.frames" </dev/null 2>/dev/null
check "a missing --symbol is a usage error (exit 2)" test $? -eq 2

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
