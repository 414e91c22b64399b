#!/usr/bin/env bash
# make bench: load + validate of generated definitions (1,000, 10,000 and
# 150,000 objects) with bin/warren, side by side with python's json.load of
# the same file, and warren's peak memory. Prints a Markdown table.
# Repeat with: make bench (RUNS=N for more runs; the median is shown).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp/bench
for n in 1000 10000 150000; do
  [ -s ".tmp/bench/defs-$n.json" ] || go run ./scripts/gendefs -n "$n" > ".tmp/bench/defs-$n.json"
done
python3 scripts/measure.py "${RUNS:-5}" .tmp/bench/defs-1000.json .tmp/bench/defs-10000.json .tmp/bench/defs-150000.json
echo
echo "In-process (no process start, no file read); BenchmarkDiff is the diff of 150,000 objects with 1% changed:"
go test ./definitions ./definitions/plan -run '^$' -bench 'LoadValidate|Diff' -benchmem -benchtime 5x | grep -E '^Benchmark'
echo
./scripts/ensure-rabbitmq.sh
go run ./scripts/benchbroker -warren bin/warren
