"""Metric points per second through Verity's SDK, a benchmark program.

    VERITY_URL=http://127.0.0.1:8080 python sdk/python/bench_sdk.py [POINTS]

Logs POINTS (default 200,000) points, 10 keys, from a loop as training code does, then flushes;
prints how long the loop itself took (what training waits for) and the end-to-end rate up to
the last point stored. Best of 3 rounds, each on a fresh run.
"""

import sys
import time

import verity

points = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
client = verity.Client()
best = 0.0
for round_ in range(3):
    run = client.start_run("bench", "sdk")
    started = time.perf_counter()
    for i in range(points // 10):
        run.log_metrics({f"m{k}": float(i) for k in range(10)}, step=i)
    queued = time.perf_counter() - started
    run.end()
    total = time.perf_counter() - started
    best = max(best, points / total)
    print(f"round {round_ + 1}: loop {queued:.2f} s ({points / queued:,.0f} points/s queued), "
          f"stored in {total:.2f} s = {points / total:,.0f} points/s")
print(f"best {best:,.0f} points/s end to end")
