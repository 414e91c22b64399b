#!/usr/bin/env bash
# make bench: the speed table, RabbitMQ 3.10, 4.0 and 4.3 side by side,
# written to docs/performance.md.
#  - warren validate of 150,000, 500,000 and 1,500,000 objects against
#    python3's json.load, and its peak memory (no broker);
#  - on one real node of each version, with 41,200 objects (100 vhosts,
#    10,000 users and permissions, 10,000 queues, 1,000 exchanges, 10,000
#    bindings, 100 policies): warren diff and apply against one
#    GET /api/definitions, and apply from scratch against the broker's own
#    import (ROUNDS back-to-back pairs, default 5);
#  - warren access (--user, --resource, --audit) against warren validate of
#    the 41,200 objects, with peak memory (no broker);
#  - the Go benchmarks of the pure parts (load, validate, diff, render);
#  - a fleet diff against 4 nodes at once, beside one node's diff.
# ROUNDS=1 REPEATS=1 make bench is a quick run; PROFILE=DIR writes CPU and
# heap profiles of every measured warren command there (go tool pprof).
# The results stay in .tmp/bench; `scripts/bench.sh page` writes
# docs/performance.md again from them without measuring (after editing the
# page's text below).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.tmp/bench
page=docs/performance.md

# write_page assembles docs/performance.md from the results in $out: run.env
# (the command, the commit, the machine, the time it took), table.md
# (benchbroker -report), fleet.txt (benchfleet) and go-bench.txt.
write_page() {
  local missing=()
  for f in run.env table.md; do [ -s "$out/$f" ] || missing+=("$out/$f"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bench.sh: no results to write $page from (missing ${missing[*]}): run make bench" >&2
    return 1
  fi
  # shellcheck source=/dev/null
  . "$out/run.env"
  {
    cat <<'EOF'
# Performance

<!-- Written by make bench (scripts/bench.sh) from its measurements; `scripts/bench.sh page` writes it again
     from the last run's results in .tmp/bench. Edit the text in scripts/bench.sh, not here. -->

`make bench` measures whole processes, start-up included: one real node per RabbitMQ version, loaded with
41,200 objects (100 vhosts, 10,000 users, 10,000 permissions, 10,000 queues, 1,000 exchanges, 10,000 bindings,
100 policies: `defgen.BenchShape`), each warren command against the broker's own operation next to it in time
(one `GET /api/definitions`; the broker's import from scratch, after a `rabbitmqctl reset`, in ROUNDS
back-to-back pairs), and `warren validate` of 150,000, 500,000 and 1,500,000 objects (`defgen.Generate`; the
largest file needs `--max-size`) against `python3 -c 'import json,sys; json.load(open(sys.argv[1]))'`: the time
must stay linear in the file's size. Quick measures are the median of REPEATS runs.
Peak memory is the kernel's peak resident size of the warren process (`ru_maxrss`), read by a fresh, small copy
of the benchmark program that starts it (`internal/benchproc`): a Go program that starts warren itself would be
told its own peak (os/exec starts a child in the parent's address space until it execs).

EOF
    echo "## The table"
    echo
    echo "\`$BENCH_COMMAND\` at commit \`$BENCH_COMMIT\`, on $BENCH_MACHINE; it took $BENCH_TOOK."
    echo "Figures vary between runs on one machine: an import of the 41,200 objects alone can take from 20 s to 30 s."
    echo
    # the table without its leading and trailing blank lines, and one blank line between paragraphs
    awk 'NF { if (seen && blank) print ""; print; seen = 1; blank = 0; next } { blank = 1 }' "$out/table.md"
    echo
    echo "### A fleet"
    echo
    if [ -s "$out/fleet.txt" ]; then
      echo "The same files, a quarter of the size, diffed against 4 real nodes at once (\`warren diff --inventory\`)"
      echo "beside one node's diff (scripts/benchfleet):"
      echo
      echo '```text'
      sed '/^$/d' "$out/fleet.txt"
      echo '```'
    else
      echo "Not in this run's results."
    fi
    echo
    echo "### The pure parts"
    echo
    echo "In process, no broker: \`go test -run '^\$' -bench . -benchmem ./definitions/... ./seeders/rabbitmq\`"
    echo "(load, validate, diff, render, and the decoding of the broker's answers)."
    echo
    if [ -s "$out/go-bench.txt" ]; then
      echo '```text'
      cat "$out/go-bench.txt"
      echo '```'
    else
      echo "Not in this run's results."
    fi
    cat <<'EOF'

## Where the time and memory go

From CPU and heap profiles (`PROFILE=DIR make bench`), `GODEBUG=gctrace=1`, runtime/metrics, and timed runs:
- A diff or an apply with little to do waits for the broker's listings most of its wall time; warren's own CPU
  is about 0.2 s of it. The longest listing is the bindings' (20,000 on this broker: the files' 10,000 and the
  default exchange's implicit one for every queue), read whole. Every listing is decoded as it arrives, element
  by element, by warren's own decoder straight into the model; equal strings and argument Tables of one listing
  are stored once. On RabbitMQ 4.3, whose listings of queues and bindings cost the broker more than its whole
  export, the read is one `GET /api/definitions`, decoded as it streams, and a diff starts it while it loads the
  files (a bad file still shows its own errors alone); `apply --yes` writes its lock first and starts the same
  read under it while the files load.
- An apply with 1% changed on RabbitMQ 4.3 (412 permissions) is the read under the lock (one export), the plan
  and its access section (60 to 100 ms of CPU for 412 changed permissions: only the permissions of the users and
  vhosts a change touches are compared, with the queues and exchanges of those vhosts, and only the operations
  whose pattern or resource changed are asked of both models), and the writes. An import of the 412 permissions
  took the 4.3.6 node 0.6 to 1.1 s: Khepri commits an import's objects one after the other, each waiting for its
  own write to disk, and the broker's imports do not overlap (2, 4 or 8 at once were slower). PUT one by one, 16 at
  a time, they took 0.23 to 0.34 s, the writes in flight sharing the broker's disk writes (one at a time 0.8 to
  1.1 s; 32 or 64 at a time about as 16). apply PUTs up to 1,000 permissions and topic permissions that way, and,
  since a PUT answered is the broker confirming that object, the check after the apply does not read them again
  (its GET /api/permissions took 0.2 to 0.4 s). The export, the plan and the PUTs are still more than 1.5 times
  one export: the 412 writes alone are about as long as the export itself.
- An apply from scratch is the broker's import and about 1.2 s more (on 3.10.8, from a trace of its requests):
  start-up and loading, the apply lock settling (it keeps two applies apart), making the plan's import, taking
  back the permissions the import gives the acting user on every new vhost, and, the most of it, reading the
  broker again to check the result (it catches what the import skips silently). That is about 5% of a 23 s
  import, at the goal's edge; what the pairs show beyond it is the import's own spread.
- validate: a file of 1 MiB or more is mapped, not read, and the pages behind the decoder are handed back as it
  goes; its bytes are read again only to place a diagnostic (and only if the file is unchanged: size and
  CRC-32C). What remains is the model, about 29 MB live for 150,000 objects and 290 MB for 1,500,000 (1.5 times
  the file): arguments are a `Table` (a sorted slice of fields: 64 bytes for two, nothing when empty, where a Go
  map takes 336 and 48), the decoder decodes into the maps the model copied out of, short strings a file repeats
  (keys, vhosts' names, types) are stored once, and objects hold their origin. Then what the checks add at the
  end, when the model is at its largest: a hash of each key to find duplicates (8 bytes an object, not the keys
  themselves), and, for the references between objects, a hash and the place of each user's, vhost's, queue's
  and exchange's key, sorted (16 bytes a key, where maps of the keys took 40 to 80: 4 MB at 150,000 objects).
  Then the binary's own pages (`warren version`: 17 MB), which is why the smallest file has the highest ratio.
  Go's collector takes 2% to 4% of the CPU time and little memory: the model only grows, so the heap holds little
  garbage whatever GOGC says (GOGC=50 or 200 moved the peak of 1,500,000 objects by 2% or less).
- validate's time is linear in the file: per object, 1,500,000 objects take as many allocations as 500,000
  (`TestValidateAllocatesLinearly` compares 20,000 with 200,000 without a clock). Most of it is decoding
  (two thirds, a third of that the strings), then the checks (a sixth: lookups among 450,000 names).
- diff: of about 47 MB, 11 MB are the binary's pages and 4 MB the Go runtime's own; the heap peaks near 30 MB at
  the plan: the files' model (10 MB for 41,200 objects), the broker's (5 MB), the normalized copies (4 MB), the
  plan's indexes, and what decoding left to collect. The digest and the import write objects straight into
  compact JSON, without a tree of each.
- access: `--user` and `--resource` load the files as validate does, then answer on the other core while the
  checks run (`operation.LoadValidWhile`; the answer is shown only when the checks found no error): give what
  loading left to collect back (`debug.FreeOSMemory`), index only what the question reads (one user's
  permissions, or one vhost's users and resources), place the permissions `--user` names in the file in one
  pass that releases the mapped pages behind it (a quarter megabyte at a time) and checks the file only up to
  the checksum mark past them, then make the verdicts. The process's main path is validate's (119 ms of CPU
  against 118, 10 CPU profiles each); the answer is 18 ms of CPU on the other core (the collection 5, placing
  6, the verdicts 5) and the collection it forces 8 more, against the checks' 16 ms: on an idle second core
  `--user` ends a few milliseconds after validate would, on a busy one the two add up. `--resource` keeps the
  users who cannot connect in the list of users itself (16 bytes a user).
  `--audit` reads every permission: GOMAXPROCS workers make the findings while the checks run, each held in
  32 bytes (what it is about, the field, which finding: 320 KB for 10,000), not as text. Once the checks are
  done, what they and loading left is collected and given back, the findings are placed in the file in one pass
  (the locator walks the pointers sorted by their tokens rather than a trie of nodes and maps: 1.2 MB for
  10,000 findings, 4.5 MB before), and each line is written from its finding, with no pointer or message
  string made. Files are mapped one page past a huge page's boundary: the page cache of a file just written
  (as make bench writes its) holds 2 MiB folios, which a read mapped whole, past the pages placing releases
  (2 to 3 MB above validate there). Held as diagnostics with their text, placed while the checks ran, the
  findings took 42 MB against validate's 30.
- At ten times the objects (412,000, RabbitMQ 4.3.6), a diff is the broker's export, warren's own CPU, and the
  two sharing 2 cores. One profiled diff: warren spent 5.5 s of CPU (loading the 50 MB file 1.5 s, decoding the
  streamed export 1.7 s, the plan 0.9 s, the digest 0.4 s on the other core, the collector most of the rest);
  the broker, by its process's CPU time, 5.2 to 12.3 s for one export that took 4.2 to 10.9 s alone (its
  schedulers spin when the cores are busy). Loading and decoding overlap the export; the plan begins when the
  export ends. Its peak memory is the heap the collector lets grow to twice what was live at its last cycle
  (about 160 MB live at the plan: both models, and the copies normalizing makes of the broker's users, which
  have no limits, and queues, whose type is not an argument), and 17 MB of the binary's pages.
- A fleet diff's time goes to the brokers: when they share the machine's cores with warren (one diff's parallel
  listings already keep two cores busy), the fleet's time goal needs brokers on machines of their own.

How to measure one part only, and profile: [development.md](development.md#benchmarks).
EOF
  } > "$page.tmp"
  mv "$page.tmp" "$page"
  echo "wrote $page"
}

if [ "${1:-}" = page ]; then
  write_page
  exit
fi

start=$(date +%s)
rm -rf "$out"
mkdir -p "$out"
go build -o bin/benchbroker ./scripts/benchbroker
flags=(-rounds "${ROUNDS:-5}" -repeats "${REPEATS:-3}")
prof() { if [ -n "${PROFILE:-}" ]; then echo "-profile=${PROFILE}/$1"; else echo "-profile="; fi; }
bin/benchbroker "${flags[@]}" "$(prof validate)" -validate -out "$out/validate.json"
bin/benchbroker "${flags[@]}" "$(prof access)" -access -out "$out/access.json"
./scripts/ensure-rabbitmq.sh >/dev/null
./scripts/ensure-rabbitmq-chroot.sh 4.0 >/dev/null
./scripts/ensure-rabbitmq-chroot.sh 4.3 >/dev/null
for v in 3.10 4.0 4.3; do
  WARREN_RABBITMQ=$v bin/benchbroker "${flags[@]}" "$(prof "$v")" -out "$out/rabbitmq-$v.json"
done
echo
echo "Go benchmarks of the pure parts (in process, no broker):"
go test ./definitions/... ./seeders/rabbitmq -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-3x}" | grep -E '^Benchmark' | tee "$out/go-bench.txt"
# make bench-scale's rows, when it has run (its node is kept, loaded, for the next run)
scale=(); [ -s .tmp/bench-scale/scale.json ] && scale=(.tmp/bench-scale/scale.json)
bin/benchbroker -report "$out/validate.json" "$out/access.json" "$out/rabbitmq-3.10.json" "$out/rabbitmq-4.0.json" "$out/rabbitmq-4.3.json" ${scale[@]+"${scale[@]}"} | tee "$out/table.md"
# The fleet row: the same files diffed against 4 nodes at once (scripts/benchfleet).
# A failure here still leaves the page written, saying the fleet was not measured.
if ! { go build -o bin/benchfleet ./scripts/benchfleet && bin/benchfleet -rounds "${REPEATS:-3}" -out "$out/fleet.json" | tee "$out/fleet.txt"; }; then
  echo "bench.sh: the fleet measure failed; $page will say so" >&2
  rm -f "$out/fleet.txt"
fi
took="$(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s"
machine="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(awk '/MemTotal/ {printf "%.0f GB", $2/1e6}' /proc/meminfo) of memory"
command="ROUNDS=${ROUNDS:-5} REPEATS=${REPEATS:-3}${BENCHTIME:+ BENCHTIME=$BENCHTIME} make bench"
{
  printf 'BENCH_COMMAND=%q\n' "$command"
  printf 'BENCH_COMMIT=%q\n' "$(git describe --always --dirty 2>/dev/null || echo unknown)"
  printf 'BENCH_MACHINE=%q\n' "$machine"
  printf 'BENCH_TOOK=%q\n' "$took"
} > "$out/run.env"
echo
echo "make bench took $took on $machine."
write_page
