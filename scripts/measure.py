"""Times `warren validate FILE` against `json.load` in python, and reads
warren's peak resident memory from the kernel (wait4's ru_maxrss).

usage: measure.py RUNS FILE...   (used by scripts/bench.sh)
"""
import json
import os
import statistics
import subprocess
import sys
import time

PY = ["python3", "-c", "import json,sys; json.load(open(sys.argv[1]))"]


def run(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss * 1024


def main():
    runs = int(sys.argv[1])
    print("| objects | file MB | warren validate s | python json.load s | warren / python | warren peak RSS MB | peak RSS / file size |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for path in sys.argv[2:]:
        with open(path) as f:
            doc = json.load(f)
        objects = sum(len(v) for v in doc.values() if isinstance(v, list))
        size = os.path.getsize(path)
        w, p, rss = [], [], []
        for _ in range(runs):
            t, r = run(["bin/warren", "validate", path])
            w.append(t)
            rss.append(r)
            p.append(run(PY + [path])[0])
        wm, pm, rm = statistics.median(w), statistics.median(p), max(rss)
        print(f"| {objects:,} | {size / 1e6:.1f} | {wm:.3f} | {pm:.3f} | {wm / pm:.2f}x | {rm / 1e6:.0f} | {rm / size:.1f}x |")


main()
