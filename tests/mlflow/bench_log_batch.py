"""Metric points per second through the real `mlflow` client's `log_batch`, a benchmark program.

    MLFLOW_TRACKING_URI=http://127.0.0.1:8080 python tests/mlflow/bench_log_batch.py [BATCHES] [SIZE] [sync|async|client]

Logs BATCHES (default 200) batches of SIZE (default 1000, MLflow's maximum) metric points to one
run and prints the points per second (best of 3 rounds, each on a fresh run, timed until every
point is stored). `sync` (the default) sends one request after another as training code does;
`async` uses the client's own asynchronous logging (`log_batch(..., synchronous=False)`), whose
background thread sends while the loop builds the next batches. `client` measures the client
alone: the same synchronous calls, with the log-batch request answered in the process instead of
sent (building the points, protobuf, JSON), the ceiling any server can reach. docs/benchmarks.md has the figures against Verity and against
MLflow's own server (`mlflow server --backend-store-uri sqlite:///...`) on the same machine.
"""

import sys
import time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric

batches = int(sys.argv[1]) if len(sys.argv) > 1 else 200
size = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
mode = sys.argv[3] if len(sys.argv) > 3 else "sync"
assert mode in ("sync", "async", "client"), mode
client = MlflowClient()
experiment = mlflow.set_experiment("bench-log-batch")
if mode == "client":
    import mlflow.utils.rest_utils as rest_utils

    class _Answered:
        status_code = 200
        text = "{}"

    sent = rest_utils.http_request

    def _answer_log_batch(*args, **kwargs):
        if kwargs.get("endpoint", args[1] if len(args) > 1 else "").endswith("runs/log-batch"):
            return _Answered()
        return sent(*args, **kwargs)

    rest_utils.http_request = _answer_log_batch
rates = []
for round_ in range(3):
    run = client.create_run(experiment.experiment_id)
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    started = time.perf_counter()
    pending = []
    for b in range(batches):
        metrics = [Metric(f"m{i % 10}", float(i), now, b * size + i) for i in range(size)]
        result = client.log_batch(run_id, metrics=metrics, synchronous=mode != "async")
        if result is not None:
            pending.append(result)
    for operation in pending:
        operation.wait()
    elapsed = time.perf_counter() - started
    client.set_terminated(run_id)
    rates.append(batches * size / elapsed)
    print(f"{mode} round {round_ + 1}: {batches * size} points in {elapsed:.2f} s = {rates[-1]:,.0f} points/s")
if mode != "client":
    history = client.get_metric_history(run_id, "m0")
    assert len(history) == batches * size // 10, len(history)
print(f"best {max(rates):,.0f} points/s")
