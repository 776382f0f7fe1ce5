"""What typical training code does with the real `mlflow` client, against a running Verity.

Run by the end-to-end suite (tests/e2e/mlflow.rs) with MLFLOW_TRACKING_URI pointing at the
server; every result is asserted. Exits non-zero on the first failure.
"""

import json
import math
import os
import pathlib
import tempfile
import time

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

client = MlflowClient()

# set_experiment creates the experiment on first use, then finds it.
experiment = mlflow.set_experiment("churn")
assert experiment.lifecycle_stage == "active", experiment
assert mlflow.set_experiment("churn").experiment_id == experiment.experiment_id

with mlflow.start_run(run_name="baseline") as run:
    run_id = run.info.run_id
    mlflow.log_param("lr", 0.01)
    mlflow.log_params({"layers": 3, "optimizer": "adam"})
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metrics({"acc": 0.91, "auc": 0.95}, step=4)
    mlflow.log_metric("weird", float("nan"))
    mlflow.set_tag("team", "risk")
    mlflow.set_tags({"stage": "dev", "owner": "ml"})
    client.delete_tag(run_id, "owner")
    # Artifacts go through the proxied routes into the run's (immutable) artifacts.
    work = pathlib.Path(tempfile.mkdtemp())
    (work / "notes.txt").write_text("first model\n")
    (work / "data").mkdir()
    (work / "data" / "train.csv").write_text("x,y\n1,2\n")
    (work / "data" / "sub").mkdir()
    (work / "data" / "sub" / "deep.bin").write_bytes(bytes(range(256)) * 40)
    mlflow.log_artifact(str(work / "notes.txt"))
    mlflow.log_artifacts(str(work / "data"), artifact_path="data")
    mlflow.log_dict({"threshold": 0.5}, "config/model.json")

fetched = client.get_run(run_id)
assert fetched.info.status == "FINISHED", fetched.info
assert fetched.info.run_name == "baseline", fetched.info
assert fetched.info.end_time and fetched.info.end_time >= fetched.info.start_time
assert fetched.info.artifact_uri.startswith("mlflow-artifacts:/"), fetched.info.artifact_uri
assert fetched.data.params == {"lr": "0.01", "layers": "3", "optimizer": "adam"}, fetched.data.params
assert fetched.data.metrics["loss"] == 0.2, fetched.data.metrics
assert fetched.data.metrics["acc"] == 0.91
assert math.isnan(fetched.data.metrics["weird"])
assert fetched.data.tags["team"] == "risk" and fetched.data.tags["stage"] == "dev"
assert "owner" not in fetched.data.tags, fetched.data.tags

# (Through the run's artifact URI, as the client reads any run's artifacts.)
root = client.get_run(run_id).info.artifact_uri
listed = sorted((f.path, f.is_dir) for f in client.list_artifacts(run_id))
assert listed == [("config", True), ("data", True), ("notes.txt", False)], listed
inside = sorted(f.path for f in mlflow.artifacts.list_artifacts(artifact_uri=f"{root}/data"))
assert inside == ["data/sub", "data/train.csv"], inside
assert mlflow.artifacts.list_artifacts(artifact_uri=f"{root}/nothing-here") == []
out = pathlib.Path(mlflow.artifacts.download_artifacts(artifact_uri=f"{root}/data"))
assert (out / "train.csv").read_text() == "x,y\n1,2\n"
assert (out / "sub" / "deep.bin").read_bytes() == bytes(range(256)) * 40
assert mlflow.artifacts.load_dict(f"{root}/config/model.json") == {"threshold": 0.5}

# Multipart upload, as the client does it for large files when the server supports it: parts
# sent in parallel to the part URLs Verity answers, then completed into one artifact.
os.environ["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] = "true"
os.environ["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"] = str(1024 * 1024)
os.environ["MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"] = str(1024 * 1024)
big = work / "weights.bin"
big.write_bytes(os.urandom(3 * 1024 * 1024 + 12345))
with mlflow.start_run(run_id=run_id):
    mlflow.log_artifact(str(big), artifact_path="large")
for name in ("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE",
             "MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"):
    del os.environ[name]
fetched_big = pathlib.Path(mlflow.artifacts.download_artifacts(artifact_uri=f"{root}/large/weights.bin"))
assert fetched_big.read_bytes() == big.read_bytes(), "the multipart upload came back different"
assert [(f.path, f.file_size) for f in client.list_artifacts(run_id, "large")] == [
    ("large/weights.bin", big.stat().st_size)]

history = client.get_metric_history(run_id, "loss")
assert [m.step for m in history] == [0, 1, 2, 3, 4], history
assert [round(m.value, 6) for m in history] == [1.0, 0.5, 0.333333, 0.25, 0.2]

# Params are immutable: the same value again is fine, another value is refused.
with mlflow.start_run(run_id=run_id):
    mlflow.log_param("lr", 0.01)
    try:
        mlflow.log_param("lr", 0.1)
        raise AssertionError("changing a param must fail")
    except MlflowException as e:
        assert e.error_code == "INVALID_PARAMETER_VALUE", e.error_code

# A second run that fails: the block raises, the run ends FAILED.
try:
    with mlflow.start_run(run_name="broken"):
        mlflow.log_param("lr", 0.5)
        mlflow.log_metric("loss", 0.9)
        raise RuntimeError("training diverged")
except RuntimeError:
    pass

# search_runs with a filter, MLflow's grammar, and Verity's OR as a superset.
found = mlflow.search_runs(
    experiment_ids=[experiment.experiment_id],
    filter_string="params.lr = '0.01' and metrics.acc > 0.9",
)
assert list(found["run_id"]) == [run_id], found
both = mlflow.search_runs(
    experiment_ids=[experiment.experiment_id],
    filter_string="params.lr = '0.01' or params.lr = '0.5'",
    order_by=["params.lr DESC"],
)
assert len(both) == 2 and set(both["status"]) == {"FINISHED", "FAILED"}, both
runs = client.search_runs([experiment.experiment_id], "attributes.status = 'FAILED'")
assert len(runs) == 1 and runs[0].info.run_name == "broken"
try:
    client.search_runs([experiment.experiment_id], "metrics.acc >>> 1")
    raise AssertionError("a bad filter must fail")
except MlflowException as e:
    assert e.error_code == "INVALID_PARAMETER_VALUE", e.error_code

# The default experiment ("0") and its runs.
mlflow.set_experiment(experiment_id="0")
with mlflow.start_run() as default_run:
    mlflow.log_metric("x", 1.0)
assert client.get_run(default_run.info.run_id).data.metrics == {"x": 1.0}

# Experiments: search, rename, delete, restore; errors.
names = [e.name for e in mlflow.search_experiments()]
assert "churn" in names and "Default" in names, names
assert [e.name for e in mlflow.search_experiments(filter_string="name LIKE 'chu%'")] == ["churn"]
assert [e.name for e in mlflow.search_experiments(filter_string="name = 'Default'")] == ["Default"]
client.rename_experiment(experiment.experiment_id, "churn-v2")
assert client.get_experiment(experiment.experiment_id).name == "churn-v2"
client.delete_experiment(experiment.experiment_id)
assert client.get_experiment(experiment.experiment_id).lifecycle_stage == "deleted"
deleted = mlflow.search_experiments(view_type=mlflow.entities.ViewType.DELETED_ONLY)
assert [e.name for e in deleted] == ["churn-v2"], deleted
client.restore_experiment(experiment.experiment_id)
try:
    client.create_experiment("churn-v2")
    raise AssertionError("a duplicate name must fail")
except MlflowException as e:
    assert e.error_code == "RESOURCE_ALREADY_EXISTS", e.error_code
try:
    client.get_run("0" * 32)
    raise AssertionError("an unknown run must fail")
except MlflowException as e:
    assert e.error_code == "RESOURCE_DOES_NOT_EXIST", e.error_code

# Runs: delete and restore.
client.delete_run(run_id)
assert client.get_run(run_id).info.lifecycle_stage == "deleted"
client.restore_run(run_id)
assert client.get_run(run_id).info.lifecycle_stage == "active"

# A batch past MLflow's limits is refused by the server.
from mlflow.entities import Metric  # noqa: E402

now = int(time.time() * 1000)
try:
    client._tracking_client.store.log_batch(
        run_id, metrics=[Metric("m", float(i), now, i) for i in range(1001)], params=[], tags=[]
    )
    raise AssertionError("1001 metrics in one batch must fail")
except MlflowException as e:
    assert e.error_code == "INVALID_PARAMETER_VALUE", e.error_code

# A model: log_input of a pandas dataset, log_model of a small pyfunc model, register_model,
# an alias, and pyfunc.load_model by alias.
import pandas as pd  # noqa: E402


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input["a"] * 2


frame = pd.DataFrame({"a": [2.0, 3.0], "b": [1.0, 1.0]})
mlflow.set_experiment("churn-v2")
with mlflow.start_run(run_name="with-model") as model_run:
    mlflow.log_input(mlflow.data.from_pandas(frame, name="train"), context="training")
    mlflow.log_metric("rmse", 0.1)
    logged = mlflow.pyfunc.log_model(name="model", python_model=Doubler(), input_example=frame)
assert logged.model_uri.startswith("models:/m-"), logged.model_uri
with_inputs = client.get_run(model_run.info.run_id)
inputs = with_inputs.inputs.dataset_inputs
assert [(i.dataset.name, i.tags[0].value) for i in inputs] == [("train", "training")], inputs
assert [o.model_id for o in with_inputs.outputs.model_outputs] == [logged.model_id]
assert client.get_logged_model(logged.model_id).status.to_int() == 2  # READY

version = mlflow.register_model(f"runs:/{model_run.info.run_id}/model", "churn-model")
assert version.version == "1" and version.status == "READY", version
client.set_registered_model_alias("churn-model", "champion", version.version)
assert client.get_model_version_by_alias("churn-model", "champion").version == "1"
loaded = mlflow.pyfunc.load_model("models:/churn-model@champion")
assert list(loaded.predict(frame)) == [4.0, 6.0]
again = mlflow.register_model(logged.model_uri, "churn-model")
assert again.version == "2", again
client.set_registered_model_alias("churn-model", "champion", "2")
assert list(mlflow.pyfunc.load_model("models:/churn-model@champion").predict(frame)) == [4.0, 6.0]
found = client.search_registered_models(filter_string="name LIKE 'churn%'")
assert [m.name for m in found] == ["churn-model"], found
assert client.search_registered_models(filter_string="name = 'nope'") == []
client.update_registered_model("churn-model", description="doubles a")
assert client.get_registered_model("churn-model").description == "doubles a"
versions = client.search_model_versions("name = 'churn-model'")
assert sorted(v.version for v in versions) == ["1", "2"], versions
client.update_model_version("churn-model", "1", description="the first")
assert client.get_model_version("churn-model", "1").description == "the first"
client.delete_registered_model_alias("churn-model", "champion")
try:
    client.get_model_version_by_alias("churn-model", "champion")
    raise AssertionError("a deleted alias must not resolve")
except MlflowException as e:
    assert e.error_code == "RESOURCE_DOES_NOT_EXIST", e.error_code

# Tags on experiments, registered models and versions.
mlflow.set_experiment_tag("owner", "risk-team")
client.set_experiment_tag(experiment.experiment_id, "purpose", "churn")
tagged = client.get_experiment(experiment.experiment_id)
assert tagged.tags["owner"] == "risk-team" and tagged.tags["purpose"] == "churn", tagged.tags
client.delete_experiment_tag(experiment.experiment_id, "purpose")
assert "purpose" not in client.get_experiment(experiment.experiment_id).tags
created = client.create_experiment("tagged-at-birth", tags={"team": "fraud"})
assert client.get_experiment(created).tags == {"team": "fraud"}
client.set_registered_model_tag("churn-model", "domain", "retention")
assert client.get_registered_model("churn-model").tags == {"domain": "retention"}
client.delete_registered_model_tag("churn-model", "domain")
assert client.get_registered_model("churn-model").tags == {}
client.set_model_version_tag("churn-model", "1", "validated", "true")
assert client.get_model_version("churn-model", "1").tags["validated"] == "true"
client.delete_model_version_tag("churn-model", "1", "validated")
assert "validated" not in client.get_model_version("churn-model", "1").tags
tagged_model = client.create_registered_model("tagged-model", tags={"k": "v"})
assert tagged_model.tags == {"k": "v"}, tagged_model.tags
try:
    client.delete_model_version_tag("churn-model", "1", "never-set")
    raise AssertionError("deleting a missing tag must fail")
except MlflowException as e:
    assert e.error_code == "RESOURCE_DOES_NOT_EXIST", e.error_code

# Searches by tag and attribute, in MLflow's orders.
by_tag = mlflow.search_experiments(filter_string="tags.owner = 'risk-team'")
assert [e.name for e in by_tag] == ["churn-v2"], by_tag
names = [e.name for e in mlflow.search_experiments(order_by=["name ASC"])]
assert names == sorted(names) and "tagged-at-birth" in names, names
newest = mlflow.search_experiments(max_results=1)
assert newest[0].name == "tagged-at-birth", newest  # creation_time DESC by default
paged = client.search_experiments(max_results=2, order_by=["name DESC"])
rest = client.search_experiments(max_results=100, order_by=["name DESC"], page_token=paged.token)
assert [e.name for e in list(paged) + list(rest)] == sorted(names, reverse=True)
assert [m.name for m in client.search_registered_models(filter_string="tags.k = 'v'")] == [
    "tagged-model"]
assert [m.name for m in client.search_registered_models(order_by=["name DESC"])] == [
    "tagged-model", "churn-model"]

# Renaming keeps the versions and aliases.
assert mlflow.register_model(logged.model_uri, "tagged-model").version == "1"
client.set_registered_model_alias("tagged-model", "keep", "1")
client.rename_registered_model("tagged-model", "renamed-model")
assert client.get_registered_model("renamed-model").tags == {"k": "v"}
assert client.get_model_version_by_alias("renamed-model", "keep").version == "1"
try:
    client.get_registered_model("tagged-model")
    raise AssertionError("the old name must be gone")
except MlflowException as e:
    assert e.error_code == "RESOURCE_DOES_NOT_EXIST", e.error_code
try:
    client.rename_registered_model("renamed-model", "churn-model")
    raise AssertionError("renaming onto an existing name must fail")
except MlflowException as e:
    assert e.error_code == "RESOURCE_ALREADY_EXISTS", e.error_code

# Logged models: a tag deleted, then the model deleted (its registered versions stay).
client.set_logged_model_tags(logged.model_id, {"reviewed": "yes"})
client.delete_logged_model_tag(logged.model_id, "reviewed")
assert "reviewed" not in client.get_logged_model(logged.model_id).tags
spare = mlflow.initialize_logged_model(name="spare", source_run_id=model_run.info.run_id)
client.delete_logged_model(spare.model_id)
try:
    client.get_logged_model(spare.model_id)
    raise AssertionError("a deleted logged model must not be found")
except MlflowException as e:
    assert e.error_code == "RESOURCE_DOES_NOT_EXIST", e.error_code
assert spare.model_id not in [m.model_id for m in mlflow.search_logged_models(output_format="list")]

# Stages: every Verity version is in stage None; aliases replace stage transitions, and the
# registry keeps its versions.
import warnings  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    latest = client.get_latest_versions("churn-model")
    assert [(v.version, v.current_stage) for v in latest] == [("2", "None")], latest
    assert client.get_latest_versions("churn-model", stages=["Production"]) == []
    try:
        client.transition_model_version_stage("churn-model", "2", "Production")
        raise AssertionError("stage transitions must be refused")
    except MlflowException as e:
        assert e.error_code == "INVALID_PARAMETER_VALUE" and "alias" in e.message, e.message
for delete in (lambda: client.delete_model_version("churn-model", "1"),
               lambda: client.delete_registered_model("churn-model")):
    try:
        delete()
        raise AssertionError("registered models and versions are kept")
    except MlflowException as e:
        assert e.error_code == "PERMISSION_DENIED" and "record" in e.message, e.message
assert client.get_model_version("churn-model", "1").version == "1"

# What the end-to-end test checks through Verity's own API.
result = os.environ.get("VERITY_RESULT")
if result:
    pathlib.Path(result).write_text(
        json.dumps(
            {
                "run_id": run_id,
                "experiment_id": experiment.experiment_id,
                "model_run_id": model_run.info.run_id,
                "model_id": logged.model_id,
            }
        )
    )
print("mlflow client checks passed:", os.environ.get("MLFLOW_TRACKING_URI"))
