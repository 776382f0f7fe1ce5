"""The SDK against a real server: logging, a failing block, a server restart in the middle of
logging, refusals reported, datasets, artifacts, aliases and the read-side helpers."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pandas as pd
import pytest

import verity
from verity import Client, VerityError


def get(server, path):
    with urllib.request.urlopen(server.url + path) as r:
        return json.loads(r.read())


def post(server, path, body):
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as r:
        return json.loads(r.read())


def test_logging_never_blocks_and_everything_arrives(server, tmp_path):
    post(server, "/api/v1/projects", {"name": "p"})
    artifact = tmp_path / "weights.bin"
    artifact.write_bytes(b"\x00\x01" * 1000)
    with verity.start_run(project="p", experiment="e", name="r1", url=server.url) as run:
        verity.log_params({"lr": 0.1, "layers": 3})
        verity.set_tags({"team": "risk"})
        started = time.perf_counter()
        for step in range(5000):
            verity.log_metrics({"loss": 1.0 / (step + 1), "acc": step / 5000}, step=step)
        queued = time.perf_counter() - started
        verity.log_metric("weird", float("nan"))
        verity.log_artifact(str(artifact), artifact_path="model")
    # 10,000 points queued in well under the time the requests take.
    assert queued < 2.0, queued
    detail = get(server, f"/api/v1/runs/{run.id}")
    assert detail["status"] == "FINISHED"
    assert {p["key"]: p["value"] for p in detail["params"]} == {"lr": "0.1", "layers": "3"}
    client = Client(server.url)
    history = client.metric_history(run.id, "loss")
    assert list(history["step"]) == list(range(5000))
    assert history["value"].iloc[-1] == pytest.approx(1 / 5000)
    runs = client.runs("p", filter="params.lr = '0.1'")
    assert list(runs["run_id"]) == [run.id]
    assert runs["metrics.acc"].iloc[0] == pytest.approx(4999 / 5000)
    files = get(server, f"/api/v1/runs/{run.id}/artifacts?path=model")["files"]
    assert files == [{"path": "model/weights.bin", "is_dir": False, "byte_size": 2000}]


def test_a_block_that_raises_ends_the_run_failed(server):
    post(server, "/api/v1/projects", {"name": "p"})
    with pytest.raises(RuntimeError):
        with verity.start_run(project="p", experiment="e", url=server.url) as run:
            verity.log_metric("loss", 0.9)
            raise RuntimeError("diverged")
    detail = get(server, f"/api/v1/runs/{run.id}")
    assert detail["status"] == "FAILED"
    assert [m["key"] for m in detail["metrics"]] == ["loss"]


def test_a_server_restart_in_the_middle_loses_nothing(server):
    post(server, "/api/v1/projects", {"name": "p"})
    run = Client(server.url).start_run("p", "e", flush_interval=0.05)
    for step in range(2000):
        run.log_metric("loss", float(step), step=step)
    server.stop()
    # Logging goes on while the server is down.
    for step in range(2000, 4000):
        run.log_metric("loss", float(step), step=step)
    restart = threading.Timer(1.5, server.start)
    restart.start()
    run.end()
    restart.join()
    history = Client(server.url).metric_history(run.id, "loss")
    assert sorted(history["step"]) == list(range(4000))
    assert get(server, f"/api/v1/runs/{run.id}")["status"] == "FINISHED"


def test_a_refused_request_is_reported_not_swallowed(server):
    post(server, "/api/v1/projects", {"name": "p"})
    run = Client(server.url).start_run("p", "e")
    run.log_param("lr", 0.1)
    run.flush()
    run.log_param("lr", 0.2)  # params are immutable
    run.log_metric("loss", 0.5)
    with pytest.raises(VerityError) as refused:
        run.end()
    assert refused.value.status == 409
    detail = get(server, f"/api/v1/runs/{run.id}")
    assert detail["status"] == "FAILED"
    # The points queued beside the refused param still arrived.
    assert [m["key"] for m in detail["metrics"]] == ["loss"]
    with pytest.raises(VerityError):
        run.log_metric("late", 1.0)


def test_datasets_aliases_and_reports(server, tmp_path):
    post(server, "/api/v1/projects", {"name": "p"})
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": [0, 1, 1]})
    csv = tmp_path / "extra.csv"
    csv.write_text("a,b\n1,2\n")
    with verity.start_run(project="p", experiment="e", url=server.url) as run:
        version = verity.log_dataset(frame, name="train")
        verity.log_dataset(str(csv), name="extra", context="validation")
    assert version["row_count"] == 3 and version["format"] == "parquet"
    inputs = get(server, f"/api/v1/runs/{run.id}")["inputs"]
    assert sorted((i["dataset"], i["context"]) for i in inputs) == [
        ("extra", "validation"), ("train", "training")]
    client = Client(server.url)
    # An alias on a model version registered from the run's artifacts.
    with open(tmp_path / "m.bin", "wb") as f:
        f.write(b"weights")
    run2 = client.start_run("p", "e")
    run2.log_artifact(str(tmp_path / "m.bin"), artifact_path="model")
    run2.end()
    post(server, "/api/v1/projects/p/models", {"name": "m"})
    post(server, "/api/v1/projects/p/models/m/versions",
         {"run_id": run2.id, "artifact_path": "model"})
    client.set_alias("p", "m", "champion", 1)
    assert get(server, "/api/v1/projects/p/models/m/aliases/champion")["version"] == 1
    with pytest.raises(VerityError) as missing:
        client.set_alias("p", "m", "champion", 9)
    assert missing.value.status == 404
    post(server, "/api/v1/projects/p/checks", {"check": {"kind": "profile"}, "dataset": "train"})
    reports = client.reports("p", kind="profile")
    assert list(reports["dataset"]) == ["train"] and list(reports["status"]) == ["pass"]


def test_errors_are_clear(server):
    client = Client(server.url)
    with pytest.raises(VerityError) as no_project:
        client.start_run("nope", "e")
    assert no_project.value.status == 404
    with pytest.raises(VerityError) as no_run:
        verity.log_metric("loss", 1.0)
    assert no_run.value.code == "no_active_run"
    unreachable = Client("http://127.0.0.1:9", timeout=0.5)
    unreachable.http.retries = 1
    with pytest.raises(VerityError) as down:
        unreachable.start_run("p", "e")
    assert down.value.status == 0


def test_log_model_registers_a_model_verity_can_evaluate(server):
    import numpy as np

    post(server, "/api/v1/projects", {"name": "p"})
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 2))
    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "label": (x[:, 0] + x[:, 1] > 0).astype(int)})
    weight = np.array([[1.5, 1.0]])
    bias = np.array([0.1])
    with verity.start_run(project="p", experiment="e", url=server.url):
        verity.log_dataset(frame, name="scoring")
        version = verity.log_model("clf", [(weight, bias)], ["x1", "x2"], {"type": "binary"})
    assert version["version"] == 1
    assert sorted(f["path"] for f in version["files"]) == ["model.safetensors", "verity-model.json"]
    report = post(server, "/api/v1/projects/p/evaluations",
                  {"model": "clf", "version": 1, "dataset": "scoring",
                   "evaluation": {"label": "label"}})
    predicted = (x @ weight.T + bias).ravel() >= 0
    expected = float(np.mean(predicted == frame["label"].to_numpy().astype(bool)))
    assert report["result"]["overall"]["accuracy"] == pytest.approx(expected)
    # Features that do not fit the first layer are refused before anything is sent...
    with pytest.raises(ValueError, match="the first layer takes 2 inputs but the features give 3"):
        with verity.start_run(project="p", experiment="e", url=server.url):
            verity.log_model("clf", [(weight, bias)], ["x1", "x2", "x3"], {"type": "binary"})
    # ...and layers that do not fit each other by the server, which checks spec and tensors.
    with pytest.raises(VerityError) as refused:
        with verity.start_run(project="p", experiment="e", url=server.url):
            verity.log_model("clf", [(np.ones((4, 2)), None), (np.ones((1, 3)), None)],
                             ["x1", "x2"], {"type": "binary"})
    assert refused.value.status == 400 and "shape" in refused.value.message


def test_system_metrics_are_logged_on_an_interval(server):
    post(server, "/api/v1/projects", {"name": "p"})
    with verity.start_run(project="p", experiment="e", url=server.url, system_metrics=True,
                          system_metrics_interval=0.1) as run:
        time.sleep(0.8)
    client = Client(server.url)
    memory = client.metric_history(run.id, "system/system_memory_usage_megabytes")
    assert len(memory) >= 3 and (memory["value"] > 0).all()
    assert list(memory["step"]) == list(range(len(memory)))
    cpu = client.metric_history(run.id, "system/cpu_utilization_percentage")
    assert len(cpu) >= 3 and cpu["value"].between(0, 100).all()
