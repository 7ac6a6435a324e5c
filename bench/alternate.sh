#!/usr/bin/env bash
# Before and after in one sitting: the autosave benchmarks of two checkouts, runs alternated.
#
#   git worktree add ../before <commit> && make -C ../before .venv/.installed-test
#   bench/alternate.sh ../before . [OUT_DIR]
#
# Each checkout runs its own bench/save_cpu.py (2 rounds) and bench/autosave_load.py at 1,000
# editors (3 rounds), before then after in each round; the JSON lines go to OUT_DIR (var/bench).
set -euo pipefail
before=$(cd "$1" && pwd)
after=$(cd "$2" && pwd)
out=${3:-var/bench}
mkdir -p "$out"
run() {  # run NAME ROUND CHECKOUT COMMAND...
    local name=$1 round=$2 dir=$3 side
    shift 3
    side=$([ "$dir" = "$before" ] && echo before || echo after)
    echo "== $name $side round $round $(date +%T)"
    (cd "$dir" && .venv/bin/python "$@") > "$out/${name}_${side}_${round}.txt" 2>&1
}
for round in 1 2; do
    for dir in "$before" "$after"; do
        run save_cpu "$round" "$dir" bench/save_cpu.py --saves 3000 --runs 2
    done
done
for round in 1 2 3; do
    for dir in "$before" "$after"; do
        run autosave "$round" "$dir" bench/autosave_load.py --editors 1000 --seconds 30 --json
    done
done
echo "== done $(date +%T)"
