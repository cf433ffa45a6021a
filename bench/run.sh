#!/usr/bin/env bash
# Runs every benchmark program built in <build dir>/bin (bookcast-*-bench), writes each one's
# figures to bench/results/<name>.txt and prints them.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
out="$here/results"
mkdir -p "$out"
status=0
found=0
for exe in "$build"/bin/bookcast-*-bench; do
  [ -x "$exe" ] || continue
  found=1
  name=$(basename "$exe")
  echo "== $name"
  if "$exe" "$out/$name.txt"; then
    cat "$out/$name.txt"
  else
    echo "$name failed" >&2
    status=1
  fi
done
[ $found -eq 1 ] || { echo "no benchmarks built in $build/bin" >&2; exit 1; }
exit $status
