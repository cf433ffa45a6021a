#!/usr/bin/env bash
# Starts the bookcast pipeline in the foreground and stops it, by pid, on Ctrl-C or SIGTERM.
#
#   scripts/pipeline.sh run  [BUILD_DIR]   against Binance, with config/bookcast.json
#   scripts/pipeline.sh demo [BUILD_DIR]   offline: the same pipeline against bookcast-sim
#
# Every program logs to <run dir>/<program>.log (run dir: $BOOKCAST_RUN_DIR, default .run/<mode>).
# The demo makes a throwaway CA for the simulator and points the collectors at it with --set:
# certificates are verified exactly as against Binance. If any program dies, everything stops and
# the script exits non-zero, naming it.
set -u
mode=${1:-}
build=${2:-build}
case "$mode" in run | demo) ;; *)
  echo "usage: $0 run|demo [BUILD_DIR]" >&2
  exit 2
  ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/bin"
[ -d "$bin" ] || bin="$root/$build/bin"
run_dir=${BOOKCAST_RUN_DIR:-"$root/.run/$mode"}
mkdir -p "$run_dir"
config=${BOOKCAST_CONFIG:-"$root/config/bookcast.json"}

pids=()
names=()
stop_all() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null; done
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    for _ in $(seq 50); do kill -0 "${pids[$i]}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${pids[$i]}" 2>/dev/null
    wait "${pids[$i]}" 2>/dev/null
  done
}
trap 'stop_all; exit 0' INT TERM

start() { # name, command...
  local name=$1
  shift
  "$@" >>"$run_dir/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
  echo "started $name (pid $!), log $run_dir/$name.log"
}

sets=()
if [ "$mode" = demo ]; then
  certs="$run_dir/certs"
  [ -f "$certs/server.pem" ] || "$root/sim/make-certs.sh" "$certs" >/dev/null
  start sim "$bin/bookcast-sim" --cert "$certs/server.pem" --key "$certs/server.key" --symbols 5
  ports=(spot:7443 usdm:7444 coinm:7445)
  for mp in "${ports[@]}"; do
    m=${mp%%:*} p=${mp#*:}
    sets+=(--set "markets.$m.ws_url=wss://127.0.0.1:$p" --set "markets.$m.rest_url=https://127.0.0.1:$p"
      --set "markets.$m.ca_file=$certs/ca.pem")
  done
  sleep 1
fi

start bookbuilder "$bin/bookcast-bookbuilder" --config "$config" "${sets[@]}"
for m in spot usdm coinm; do
  enabled=$("$bin/bookcast-config" --config "$config" "${sets[@]}" --explain | awk -v k="markets.$m.enabled" '$1 == k {print $3}')
  [ "$enabled" = false ] || start "collector-$m" "$bin/bookcast-collector" --market "$m" --config "$config" "${sets[@]}"
done

cat <<MSG

bookcast is running ($mode). Data bus tcp://127.0.0.1:7100, snapshot service tcp://127.0.0.1:7103
(docs/topics.md). Follow one book:
  python3 docs/examples/clone_subscriber.py --market spot --symbol BTCUSDT
Ctrl-C stops everything.
MSG

while :; do
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      wait "${pids[$i]}"
      rc=$?
      echo "${names[$i]} exited with status $rc (see $run_dir/${names[$i]}.log); stopping" >&2
      unset 'pids[i]'
      pids=("${pids[@]}")
      stop_all
      exit 1
    fi
  done
  sleep 1
done
