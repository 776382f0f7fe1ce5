"""The PyTorch helper: an `nn.Sequential` trained with PyTorch, logged and registered as is,
evaluated by the real server to the same predictions PyTorch makes; and every network the
format cannot hold refused with a clear message. scripts/test.sh installs PyTorch (CPU use)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import verity
from verity import Client

from test_sdk import post


def _header(path) -> dict:
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(length))


def _data(rows: int = 400):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(rows, 3)).astype(np.float32)
    label = ((x[:, 0] - 0.5 * x[:, 1] + 0.25 * x[:, 2] ** 2) > 0.1).astype(int)
    group = np.where(rng.random(rows) < 0.5, "a", "b")
    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "label": label,
                          "group": group})
    return x, label, frame


def test_a_trained_sequential_is_logged_and_evaluated_as_pytorch_predicts(server, tmp_path):
    torch.manual_seed(3)
    x, label, frame = _data()
    net = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Dropout(0.1), nn.Linear(16, 8), nn.Tanh(),
                        nn.Linear(8, 1), nn.Sigmoid())
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    inputs, targets = torch.from_numpy(x), torch.from_numpy(label.astype(np.float32))[:, None]
    for _ in range(150):
        optimizer.zero_grad()
        loss = nn.functional.binary_cross_entropy(net(inputs), targets)
        loss.backward()
        optimizer.step()
    net.eval()
    with torch.no_grad():
        scores = net(inputs).numpy().ravel()
    torch_accuracy = float(np.mean((scores >= 0.5) == label.astype(bool)))
    assert torch_accuracy > 0.8, "the network did not learn; the comparison would be weak"

    post(server, "/api/v1/projects", {"name": "p"})
    with verity.start_run(project="p", experiment="torch", url=server.url) as run:
        verity.log_dataset(frame, name="holdout")
        version = verity.log_model("net", net, ["x1", "x2", "x3"], {"type": "binary"})
    assert version["version"] == 1 and version["source_run_id"] == run.id
    spec = verity.save_torch_model(str(tmp_path / "m"), net, ["x1", "x2", "x3"],
                                   {"type": "binary"})
    assert spec["architecture"] == {"type": "mlp", "hidden_layers": [16, 8], "activation": "tanh"}

    report = post(server, "/api/v1/projects/p/evaluations",
                  {"model": "net", "version": 1, "dataset": "holdout",
                   "evaluation": {"label": "label", "sensitive": ["group"]}})
    overall = report["result"]["overall"]
    assert overall["accuracy"] == pytest.approx(torch_accuracy, abs=1e-12)
    # The server's scores are PyTorch's, row by row (its predictions dataset).
    client = Client(server.url)
    predictions = client.dataset("p", "net-predictions")
    assert len(predictions) == len(frame)
    np.testing.assert_allclose(predictions.sort_values("row")["score"].to_numpy(), scores,
                               rtol=1e-5, atol=1e-6)


def test_tensor_names_are_the_modules_own(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3, bias=False),
                        nn.Softmax(dim=-1))
    verity.save_torch_model(str(tmp_path), net, ["a", "b", "c", "d"],
                            {"type": "multiclass", "classes": ["x", "y", "z"]})
    header = _header(tmp_path / "model.safetensors")
    assert set(header) == set(net.state_dict()) == {"0.weight", "0.bias", "2.weight"}
    assert header["2.weight"]["shape"] == [3, 5]
    with open(tmp_path / "model.safetensors", "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        data = f.read()[length:]
    start, end = header["0.weight"]["data_offsets"]
    np.testing.assert_array_equal(np.frombuffer(data[start:end], "<f4").reshape(5, 4),
                                  net[0].weight.detach().numpy())
    # One Linear: a softmax regression; float64 weights are written as float32.
    single = nn.Linear(2, 3).double()
    spec = verity.save_torch_model(str(tmp_path / "one"), single, ["a", "b"],
                                   {"type": "multiclass", "classes": [0, 1, 2]})
    assert spec["architecture"] == {"type": "softmax_regression"}
    assert _header(tmp_path / "one" / "model.safetensors")["0.weight"]["dtype"] == "F32"


@pytest.mark.parametrize("net, output, message", [
    (nn.Conv1d(1, 1, 3), {"type": "binary"}, "expected a torch.nn.Sequential"),
    (nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)), {"type": "binary"},
     "module 1 is BatchNorm1d"),
    (nn.Sequential(nn.ReLU(), nn.Linear(2, 1)), {"type": "regression"},
     "module 0 is ReLU; expected nn.Linear"),
    (nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 1)),
     {"type": "regression"}, "one kind of activation"),
    (nn.Sequential(nn.Linear(2, 4), nn.GELU(approximate="tanh"), nn.Linear(4, 1)),
     {"type": "regression"}, "exact (erf) form"),
    (nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()), {"type": "regression"},
     "ends with Sigmoid"),
    (nn.Sequential(nn.Linear(2, 4), nn.ReLU()), {"type": "binary"}, "ends with ReLU"),
    (nn.Sequential(nn.Linear(2, 3), nn.LogSoftmax(dim=1)),
     {"type": "multiclass", "classes": ["a", "b", "c"]}, "module 1 is LogSoftmax"),
    (nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)),
     {"type": "multiclass", "classes": ["a", "b", "c"]}, "Softmax over dim 0"),
    (nn.Sequential(nn.Dropout(0.5)), {"type": "regression"}, "no Linear layer"),
    (nn.Sequential(nn.Linear(3, 1)), {"type": "regression"}, "the first layer takes 3 inputs"),
])
def test_networks_the_format_cannot_hold_are_refused(tmp_path, net, output, message):
    with pytest.raises((ValueError, TypeError)) as refused:
        verity.save_torch_model(str(tmp_path), net, ["a", "b"], output)
    assert message in str(refused.value)
    assert not (tmp_path / "model.safetensors").exists(), "nothing is written on a refusal"


def test_an_activation_that_contradicts_the_network_is_refused(server):
    post(server, "/api/v1/projects", {"name": "p"})
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    with pytest.raises(ValueError, match="the network uses 'relu'"):
        with verity.start_run(project="p", experiment="e", url=server.url):
            verity.log_model("m", net, ["a", "b"], {"type": "regression"}, activation="tanh")
