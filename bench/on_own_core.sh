#!/usr/bin/env bash
# Run a benchmark with the server's processes on a core of their own, for a CPU profile.
#
#   bench/on_own_core.sh .venv/bin/python bench/side_by_side.py --rounds 1 --profile var/profiles/x
#
# On two cores shared by the server, MariaDB, Redis and the load generator, py-spy counts a worker
# as busy while it is runnable but waiting for a core: a `send` that wakes MariaDB then shows the
# time MariaDB ran as the sender's (docs/benchmarks.md, "What py-spy counts on two shared cores").
# Here every `hypercorn` process is moved to CPU 0 as it appears, and the command itself (the load
# generator), mariadbd and redis-server run on CPU 1; their affinity is given back at the end.
# Figures of such a run are for profiles only: one core serves where two did.
set -euo pipefail
database=$(pgrep -x mariadbd || true)
cache=$(pgrep -x redis-server || true)
pin() {  # pin MASK PID...
    local mask=$1 pid
    shift
    for pid in "$@"; do taskset -a -p "$mask" "$pid" > /dev/null 2>&1 || true; done
}
# shellcheck disable=SC2086  # the pid lists split on purpose
restore() { pin 3 $database $cache; }
trap restore EXIT
pin 2 $database $cache
taskset -c 1 "$@" &
command_pid=$!
while kill -0 "$command_pid" 2> /dev/null; do
    for server in $(pgrep -f 'hypercorn --config' || true); do
        # shellcheck disable=SC2046
        pin 1 "$server" $(pgrep -P "$server" || true)
    done
    sleep 0.3
done
wait "$command_pid"
