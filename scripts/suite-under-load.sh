#!/usr/bin/env bash
# Runs the test suite several times in a row while every core is kept busy, to
# shake out the hangs and races that only show on a loaded machine (a teardown
# that waits on a task or a browser that does not stop).
#
#   scripts/suite-under-load.sh                 # the whole suite, 5 times
#   scripts/suite-under-load.sh -n 10 -- tests/web/test_reports_tester_browser.py
#
# The load is one busy loop per core (stress-ng's CPU workers when stress-ng is
# installed; it is not required). It is stopped when the script ends, however it
# ends. Each run's output goes to its own log file, named at the end; one line per
# run says passed or failed and how long it took. Exits non-zero if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=5
usage() {
    echo "usage: $0 [-n RUNS] [-- PYTEST-ARGS...]   (default: 5 runs of the whole suite)" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        -n) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
        --) shift; break ;;
        -h|--help) usage ;;
        *) usage ;;
    esac
done
case "$runs" in ''|*[!0-9]*|0) echo "suite-under-load: -n wants a positive number, not '$runs'" >&2; exit 2 ;; esac
[ -x .venv/bin/pytest ] || { echo "suite-under-load: no .venv: run ./scripts/setup.sh --with-browser first" >&2; exit 2; }

load_pids=()
stop_load() {
    local pid
    for pid in "${load_pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${load_pids[@]}"; do
        wait "$pid" 2>/dev/null
    done
    load_pids=()
}
trap stop_load EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cores=$(nproc)
if command -v stress-ng >/dev/null 2>&1; then
    stress-ng --cpu "$cores" --quiet &
    load_pids+=($!)
    echo "suite-under-load: stress-ng --cpu $cores"
else
    for _ in $(seq "$cores"); do
        ( trap - INT TERM; while :; do :; done ) &
        load_pids+=($!)
    done
    echo "suite-under-load: $cores busy loops (one per core)"
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/suite-under-load.XXXXXX")
failed=0
for run in $(seq "$runs"); do
    log="$logs/run-$run.log"
    start=$(date +%s)
    .venv/bin/pytest -q -p no:cacheprovider "$@" >"$log" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed)|(passed|failed|error).* in [0-9.]+s' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        echo "run $run/$runs: passed in ${took} s  ${summary}"
    else
        failed=$((failed + 1))
        echo "run $run/$runs: FAILED (pytest exit $rc) in ${took} s  ${summary}"
        grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/    /'
    fi
done
echo "suite-under-load: $((runs - failed)) of $runs runs passed; logs in $logs"
[ "$failed" -eq 0 ]
