"""Runs and their background logger: calls queue and return at once; a thread sends batches."""

from __future__ import annotations

import io
import math
import os
import threading
import time
from typing import Any, Dict, List, Optional, Union

from ._http import Http, VerityError

#: Points per request (the server takes more; smaller batches keep retries cheap).
METRICS_PER_BATCH = 1000
#: Params or tags per request.
PAIRS_PER_BATCH = 100


def _now_ms() -> int:
    return int(time.time() * 1000)


def _value(v: float) -> Union[float, str]:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


class Run:
    """A run being logged. Use it as a context manager: it ends FINISHED, or FAILED when the
    block raises. Logging calls never block on the network: metrics, params and tags are
    queued and sent in the background, retried through server restarts, and flushed when the
    run ends (or at exit). A refused request (a changed param, say) is raised by `flush` and
    `end`, never swallowed."""

    def __init__(self, http: Http, project: str, experiment_id: int, info: Dict[str, Any],
                 flush_interval: float = 1.0) -> None:
        self._http = http
        self.project = project
        self.experiment_id = experiment_id
        self.id: str = info["run_id"]
        self.name: str = info["name"]
        self._flush_interval = flush_interval
        self._metrics: List[Dict[str, Any]] = []
        self._pairs: List[tuple] = []
        self._errors: List[VerityError] = []
        self._lock = threading.Condition()
        self._in_flight = 0
        self._closed = False
        self._system = None
        self._thread = threading.Thread(target=self._send_loop, name=f"verity-{self.id[:8]}",
                                        daemon=True)
        self._thread.start()

    # -- logging (never blocks on the network) -------------------------------------------

    def log_metric(self, key: str, value: float, step: Optional[int] = None) -> None:
        """Queues one metric point (step 0 when absent, timestamp now)."""
        self.log_metrics({key: value}, step=step)

    def log_metrics(self, metrics: Dict[str, float], step: Optional[int] = None) -> None:
        """Queues metric points, all at `step`."""
        now = _now_ms()
        points = [{"key": k, "value": _value(float(v)), "step": int(step or 0), "timestamp": now}
                  for k, v in metrics.items()]
        with self._lock:
            self._check_open()
            self._metrics.extend(points)
            if len(self._metrics) >= METRICS_PER_BATCH:
                self._lock.notify_all()

    def log_param(self, key: str, value: Any) -> None:
        """Queues a param (immutable on the server: another value later is refused)."""
        self.log_params({key: value})

    def log_params(self, params: Dict[str, Any]) -> None:
        """Queues params."""
        with self._lock:
            self._check_open()
            self._pairs.extend(("params", k, str(v)) for k, v in params.items())

    def set_tag(self, key: str, value: Any) -> None:
        """Queues a tag (tags overwrite)."""
        self.set_tags({key: value})

    def set_tags(self, tags: Dict[str, Any]) -> None:
        """Queues tags."""
        with self._lock:
            self._check_open()
            self._pairs.extend(("tags", k, str(v)) for k, v in tags.items())

    # -- synchronous calls ----------------------------------------------------------------

    def log_artifact(self, path: str, artifact_path: Optional[str] = None) -> None:
        """Uploads a file as an artifact of the run (under `artifact_path` when given)."""
        name = os.path.basename(path)
        target = f"{artifact_path.strip('/')}/{name}" if artifact_path else name
        with open(path, "rb") as f:
            data = f.read()
        self._http.request("PUT", f"/api/v1/runs/{self.id}/artifacts/{target}", raw=data,
                           content_type="application/octet-stream")

    def log_dataset(self, data: Any, name: str, context: str = "training") -> Dict[str, Any]:
        """Uploads `data` (a pandas DataFrame, a pyarrow Table, or a Parquet/CSV file path) as a
        new version of dataset `name` (created when missing), and links it to the run as an
        input. Returns the dataset version."""
        body, content_type = _dataset_bytes(data)
        try:
            self._http.request("POST", f"/api/v1/projects/{self.project}/datasets",
                               {"name": name})
        except VerityError as e:
            if e.status != 409:
                raise
        version = self._http.request(
            "POST", f"/api/v1/projects/{self.project}/datasets/{name}/versions", raw=body,
            content_type=content_type)
        self._http.request("POST", f"/api/v1/runs/{self.id}/inputs",
                           {"dataset_version_id": version["id"], "context": context})
        return version

    def log_model(self, model: str, layers, features, output: Dict[str, Any],
                  activation: Optional[str] = None, artifact_path: str = "model",
                  description: str = "") -> Dict[str, Any]:
        """Saves a network in Verity's model format, logs both files as artifacts of the run
        under `artifact_path`, and registers them as the next version of registered model
        `model` (created when missing); the registration checks the spec against the tensors.
        `layers` is either NumPy-convertible `(weight, bias)` pairs (see `verity.save_model`;
        `activation` defaults to relu) or a PyTorch `nn.Sequential` of Linear layers, or one
        `nn.Linear` (see `verity.torch_layers`; the activation is the module's own). Returns
        the model version."""
        import tempfile

        from ._model import is_torch_module, save_model, torch_layers

        if is_torch_module(layers):
            layers, found = torch_layers(layers, output)
            if activation is not None and activation != found and len(layers) > 1:
                raise ValueError(f"activation '{activation}' given, but the network uses "
                                 f"'{found}'")
            activation = found
        activation = activation or "relu"
        with tempfile.TemporaryDirectory() as work:
            save_model(work, layers, features, output, activation)
            for name in ("verity-model.json", "model.safetensors"):
                self.log_artifact(os.path.join(work, name), artifact_path=artifact_path)
        try:
            self._http.request("POST", f"/api/v1/projects/{self.project}/models",
                               {"name": model})
        except VerityError as e:
            if e.status != 409:
                raise
        return self._http.request(
            "POST", f"/api/v1/projects/{self.project}/models/{model}/versions",
            {"run_id": self.id, "artifact_path": artifact_path, "description": description})

    def flush(self, timeout: float = 120.0) -> None:
        """Waits until everything queued is sent; raises the refusals met so far."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._lock.notify_all()
            while self._metrics or self._pairs or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise VerityError(0, "timeout",
                                      f"{len(self._metrics)} points still unsent after {timeout} s")
                self._lock.wait(min(left, 0.1))
            errors, self._errors = self._errors, []
        if errors:
            raise errors[0]

    def end(self, status: str = "FINISHED") -> None:
        """Flushes, then marks the run `status` (FINISHED, FAILED or KILLED)."""
        failure: Optional[BaseException] = None
        if self._system is not None:
            self._system.stop()
            self._system = None
        try:
            self.flush()
        except VerityError as e:
            failure = e
            status = "FAILED" if status == "FINISHED" else status
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._http.request("PATCH", f"/api/v1/runs/{self.id}", {"status": status})
        from . import _state
        _state.forget(self)
        if failure is not None:
            raise failure

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.end("FAILED" if kind is not None else "FINISHED")

    # -- the background sender ------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise VerityError(0, "run_ended", f"run {self.id} has ended")

    def _take(self) -> Optional[Dict[str, Any]]:
        """The next request body, params and tags apart from metrics (a refused param must
        not take points down with it)."""
        if self._pairs:
            batch, self._pairs = self._pairs[:PAIRS_PER_BATCH], self._pairs[PAIRS_PER_BATCH:]
            body: Dict[str, Any] = {"params": [], "tags": [], "metrics": []}
            for kind, k, v in batch:
                body[kind].append({"key": k, "value": v})
            return body
        if self._metrics:
            batch = self._metrics[:METRICS_PER_BATCH]
            self._metrics = self._metrics[METRICS_PER_BATCH:]
            return {"params": [], "tags": [], "metrics": batch}
        return None

    def _send_loop(self) -> None:
        while True:
            with self._lock:
                if not (self._metrics or self._pairs) and not self._closed:
                    self._lock.wait(self._flush_interval)
                body = self._take()
                if body is None:
                    if self._closed:
                        return
                    continue
                self._in_flight += 1
            try:
                self._send(body)
            finally:
                with self._lock:
                    self._in_flight -= 1
                    self._lock.notify_all()

    def _send(self, body: Dict[str, Any]) -> None:
        while True:
            try:
                self._http.request("POST", f"/api/v1/runs/{self.id}/batch", body)
                return
            except VerityError as e:
                if e.status == 0 or e.status in (408, 429, 500, 502, 503, 504):
                    # Still unreachable after the client's retries: keep the batch, try again.
                    time.sleep(1.0)
                    continue
                with self._lock:
                    self._errors.append(e)
                return


def _dataset_bytes(data: Any) -> tuple:
    """Parquet (or CSV) bytes of a DataFrame, a pyarrow Table or a file path."""
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        with open(path, "rb") as f:
            raw = f.read()
        kind = "text/csv" if path.lower().endswith(".csv") else "application/octet-stream"
        return raw, kind
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise VerityError(0, "missing_dependency",
                          "log_dataset of a DataFrame or Table needs pyarrow "
                          "(pip install 'verity[pandas]')") from e
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue(), "application/octet-stream"
