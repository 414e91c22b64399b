#!/usr/bin/env bash
# make bench: the speed table, RabbitMQ 3.10, 4.0 and 4.3 side by side.
#  - warren validate of 150,000 objects against python3's json.load, and its
#    peak memory (no broker);
#  - on one real node of each version, with 41,200 objects (100 vhosts,
#    10,000 users and permissions, 10,000 queues, 1,000 exchanges, 10,000
#    bindings, 100 policies): warren diff and apply against one
#    GET /api/definitions, and apply from scratch against the broker's own
#    import (ROUNDS back-to-back pairs, default 5);
#  - the Go benchmarks of the pure parts (load, validate, diff, render).
# ROUNDS=1 REPEATS=1 make bench is a quick run; PROFILE=DIR writes CPU and
# heap profiles of every measured warren command there (go tool pprof).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
out=.tmp/bench
mkdir -p "$out"
go build -o bin/benchbroker ./scripts/benchbroker
flags=(-rounds "${ROUNDS:-5}" -repeats "${REPEATS:-3}")
prof() { if [ -n "${PROFILE:-}" ]; then echo "-profile=${PROFILE}/$1"; else echo "-profile="; fi; }
bin/benchbroker "${flags[@]}" "$(prof validate)" -validate -out "$out/validate.json"
./scripts/ensure-rabbitmq.sh >/dev/null
./scripts/ensure-rabbitmq-chroot.sh 4.0 >/dev/null
./scripts/ensure-rabbitmq-chroot.sh 4.3 >/dev/null
for v in 3.10 4.0 4.3; do
  WARREN_RABBITMQ=$v bin/benchbroker "${flags[@]}" "$(prof "$v")" -out "$out/rabbitmq-$v.json"
done
echo
echo "Go benchmarks of the pure parts (in process, no broker):"
go test ./definitions/... ./seeders/rabbitmq -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-3x}" | grep -E '^Benchmark'
bin/benchbroker -report "$out/validate.json" "$out/rabbitmq-3.10.json" "$out/rabbitmq-4.0.json" "$out/rabbitmq-4.3.json"
# The fleet row: the same files diffed against 4 nodes at once (scripts/benchfleet).
go build -o bin/benchfleet ./scripts/benchfleet && bin/benchfleet -rounds "${REPEATS:-3}" -out "$out/fleet.json"
echo
echo "make bench took $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))."
