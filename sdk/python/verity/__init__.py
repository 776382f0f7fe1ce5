"""Verity's Python SDK: log experiments from training code without slowing it down.

    import verity

    with verity.start_run(project="fraud", experiment="xgb") as run:
        verity.log_params({"lr": 0.1})
        for step in range(100):
            verity.log_metrics({"loss": 1 / (step + 1)}, step=step)
        verity.log_artifact("model.pkl")

The server is `VERITY_URL` (default http://127.0.0.1:8080) and the API token `VERITY_TOKEN`,
or pass them to `Client(url, token)`.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional
from urllib.parse import quote

from . import _state
from ._http import Http, VerityError
from ._model import save_model, save_torch_model, torch_layers, write_safetensors
from ._run import Run
from ._system import SystemMonitor

__all__ = [
    "Client",
    "Run",
    "VerityError",
    "start_run",
    "active_run",
    "log_param",
    "log_params",
    "log_metric",
    "log_metrics",
    "set_tag",
    "set_tags",
    "log_artifact",
    "log_dataset",
    "end_run",
    "log_model",
    "save_model",
    "save_torch_model",
    "torch_layers",
    "write_safetensors",
]


def _q(part: str) -> str:
    return quote(part, safe="")


class Client:
    """A connection to one Verity server."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None,
                 timeout: float = 30.0) -> None:
        self.http = Http(url or os.environ.get("VERITY_URL", "http://127.0.0.1:8080"),
                         token if token is not None else os.environ.get("VERITY_TOKEN"),
                         timeout=timeout)

    def experiment_id(self, project: str, name: str) -> int:
        """The id of experiment `name`, created when missing."""
        found = self._find_experiment(project, name)
        if found is not None:
            return found
        try:
            created = self.http.request("POST", f"/api/v1/projects/{_q(project)}/experiments",
                                        {"name": name})
            return int(created["id"])
        except VerityError as e:
            if e.status != 409:
                raise
        found = self._find_experiment(project, name)
        if found is None:
            raise VerityError(404, "experiment_not_found", name)
        return found

    def _find_experiment(self, project: str, name: str) -> Optional[int]:
        cursor = None
        while True:
            page = self.http.request("GET", f"/api/v1/projects/{_q(project)}/experiments",
                                     query={"limit": 1000, "cursor": cursor})
            for item in page["items"]:
                if item["name"] == name:
                    return int(item["id"])
            cursor = page.get("next_cursor")
            if not cursor:
                return None

    def start_run(self, project: str, experiment: str, name: Optional[str] = None,
                  tags: Optional[Dict[str, Any]] = None, flush_interval: float = 1.0,
                  system_metrics: bool = False, system_metrics_interval: float = 10.0) -> Run:
        """Starts a run in `experiment` (created when missing) of `project`; with
        `system_metrics`, CPU, memory and GPU use are logged every `system_metrics_interval`
        seconds until the run ends."""
        experiment_id = self.experiment_id(project, experiment)
        body = {"name": name, "tags": [{"key": k, "value": str(v)} for k, v in (tags or {}).items()]}
        info = self.http.request(
            "POST", f"/api/v1/projects/{_q(project)}/experiments/{experiment_id}/runs", body)
        run = Run(self.http, project, experiment_id, info, flush_interval=flush_interval)
        if system_metrics:
            run._system = SystemMonitor(run, system_metrics_interval)
        _state.remember(run)
        return run

    def set_alias(self, project: str, model: str, alias: str, version: int) -> Dict[str, Any]:
        """Points `alias` of a registered model at `version`."""
        return self.http.request(
            "PUT", f"/api/v1/projects/{_q(project)}/models/{_q(model)}/aliases/{_q(alias)}",
            {"version": int(version)})

    # -- read-side helpers, as pandas DataFrames ------------------------------------------

    def runs(self, project: str, filter: Optional[str] = None, order_by=None):
        """Runs of a project (all pages) as a DataFrame: run_id, name, status, times, and one
        column per param (`params.x`) and latest metric (`metrics.y`)."""
        import pandas as pd

        rows, cursor = [], None
        while True:
            page = self.http.request("POST", f"/api/v1/projects/{_q(project)}/runs/search",
                                     {"filter": filter, "order_by": order_by or [],
                                      "limit": 1000, "cursor": cursor})
            for r in page["items"]:
                row = {k: r.get(k) for k in ("run_id", "name", "experiment_id", "status",
                                              "start_time", "end_time", "created_by")}
                row.update({f"params.{p['key']}": p["value"] for p in r.get("params", [])})
                row.update({f"tags.{t['key']}": t["value"] for t in r.get("tags", [])})
                row.update({f"metrics.{m['key']}": m["value"] for m in r.get("metrics", [])})
                rows.append(row)
            cursor = page.get("next_cursor")
            if not cursor:
                return pd.DataFrame(rows)

    def dataset(self, project: str, name: str, version: Optional[int] = None):
        """A dataset version's rows as a DataFrame (the latest version when `version` is
        None), read from its Parquet or CSV bytes."""
        import io

        import pandas as pd

        base = f"/api/v1/projects/{_q(project)}/datasets/{_q(name)}"
        if version is None:
            version = int(self.http.request("GET", base)["version_count"])
            if version == 0:
                raise VerityError(404, "dataset_version_not_found",
                                  f"dataset '{name}' has no versions")
        meta = self.http.request("GET", f"{base}/versions/{int(version)}")
        data = io.BytesIO(self.http.request("GET", f"{base}/versions/{int(version)}/content",
                                            binary=True))
        reader = {"parquet": pd.read_parquet, "csv": pd.read_csv}.get(meta["format"])
        if reader is None:
            raise VerityError(400, "unsupported_format",
                              f"cannot read format '{meta['format']}' into a DataFrame")
        return reader(data)

    def metric_history(self, run_id: str, key: str):
        """Every point of one metric of a run as a DataFrame: step, value, timestamp."""
        import pandas as pd

        points, cursor = [], None
        while True:
            page = self.http.request("GET", f"/api/v1/runs/{_q(run_id)}/metric-history",
                                     query={"key": key, "cursor": cursor})
            points.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return pd.DataFrame(points, columns=["step", "value", "timestamp"])

    def reports(self, project: str, kind: Optional[str] = None, dataset: Optional[str] = None):
        """A project's check and evaluation reports (newest first) as a DataFrame."""
        import pandas as pd

        rows, cursor = [], None
        while True:
            page = self.http.request("GET", f"/api/v1/projects/{_q(project)}/reports",
                                     query={"kind": kind, "dataset": dataset, "limit": 1000,
                                            "cursor": cursor})
            rows.extend({k: v for k, v in r.items() if k != "config"} for r in page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return pd.DataFrame(rows)


_default: Optional[Client] = None


def _client(url: Optional[str], token: Optional[str]) -> Client:
    global _default
    if url is not None or token is not None or _default is None:
        _default = Client(url, token)
    return _default


def start_run(project: str, experiment: str, name: Optional[str] = None,
              tags: Optional[Dict[str, Any]] = None, url: Optional[str] = None,
              token: Optional[str] = None, system_metrics: bool = False,
              system_metrics_interval: float = 10.0) -> Run:
    """Starts a run and makes it the active run of the module-level functions."""
    return _client(url, token).start_run(project, experiment, name=name, tags=tags,
                                         system_metrics=system_metrics,
                                         system_metrics_interval=system_metrics_interval)


def active_run() -> Run:
    """The run the module-level functions log to."""
    run = _state.active()
    if run is None:
        raise VerityError(0, "no_active_run", "start a run with verity.start_run(...) first")
    return run


def log_param(key: str, value: Any) -> None:
    """Logs a param to the active run."""
    active_run().log_param(key, value)


def log_params(params: Dict[str, Any]) -> None:
    """Logs params to the active run."""
    active_run().log_params(params)


def log_metric(key: str, value: float, step: Optional[int] = None) -> None:
    """Logs a metric point to the active run."""
    active_run().log_metric(key, value, step=step)


def log_metrics(metrics: Dict[str, float], step: Optional[int] = None) -> None:
    """Logs metric points to the active run."""
    active_run().log_metrics(metrics, step=step)


def set_tag(key: str, value: Any) -> None:
    """Sets a tag on the active run."""
    active_run().set_tag(key, value)


def set_tags(tags: Dict[str, Any]) -> None:
    """Sets tags on the active run."""
    active_run().set_tags(tags)


def log_artifact(path: str, artifact_path: Optional[str] = None) -> None:
    """Uploads a file as an artifact of the active run."""
    active_run().log_artifact(path, artifact_path)


def log_dataset(data: Any, name: str, context: str = "training") -> Dict[str, Any]:
    """Uploads a dataset version and links it to the active run."""
    return active_run().log_dataset(data, name, context)


def end_run(status: str = "FINISHED") -> None:
    """Ends the active run."""
    active_run().end(status)


def log_model(model: str, layers, features, output: Dict[str, Any],
              activation: Optional[str] = None, artifact_path: str = "model",
              description: str = "") -> Dict[str, Any]:
    """Logs a network (NumPy `(weight, bias)` layers or a PyTorch `nn.Sequential`) in
    Verity's model format from the active run and registers it; see `Run.log_model`."""
    return active_run().log_model(model, layers, features, output, activation, artifact_path,
                                  description)
