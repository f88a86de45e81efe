# Sourced by the bench scripts that start `daogou serve` in the background.

# wait_listening PID DIR [SECONDS]: wait until the server PID, started with its stdout in DIR/out
# and stderr in DIR/err, prints `listening on http://ADDR` (at most SECONDS, default 60), and set
# ADDR. If the server exits first, print its stderr and exit the script (so call it directly, not
# inside `$(…)`).
wait_listening() {
  local pid=$1 dir=$2 tries=$((${3:-60} * 10))
  for _ in $(seq 1 "$tries"); do
    grep -q "listening on" "$dir/out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/err" >&2; exit 1; }
    sleep 0.1
  done
  ADDR="$(sed -n 's#^listening on http://##p' "$dir/out")"
}
