"""Saving models in Verity's format (docs/models.md): `verity-model.json` and
`model.safetensors`, written with the standard library and NumPy, tensor names as PyTorch's
`state_dict` gives them for an `nn.Sequential` of Linear layers (`0.weight`, `0.bias`,
`2.weight`...), from NumPy arrays or from a PyTorch `nn.Sequential` itself."""

from __future__ import annotations

import json
import os
import struct
from typing import Any, Dict, List, Optional, Sequence, Tuple


def _f32_bytes(array) -> Tuple[List[int], bytes]:
    import numpy as np

    a = np.ascontiguousarray(np.asarray(array, dtype="<f4"))
    return list(a.shape), a.tobytes()


def write_safetensors(path: str, tensors: Dict[str, Any]) -> None:
    """Writes F32 tensors (anything NumPy converts) as a safetensors file."""
    header: Dict[str, Any] = {}
    chunks, offset = [], 0
    for name in sorted(tensors):
        shape, data = _f32_bytes(tensors[name])
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for chunk in chunks:
            f.write(chunk)


def save_model(directory: str, layers: Sequence[Tuple[Any, Optional[Any]]],
               features: Sequence[Any], output: Dict[str, Any],
               activation: str = "relu") -> Dict[str, Any]:
    """Writes a model into `directory`: `layers` are `(weight [out, in], bias [out] or None)`
    from input to output (one layer: linear, logistic or softmax regression by `output`; more:
    an MLP with `activation` between layers); `features` are column names or feature dicts
    (`{"column", "standardize": {"mean", "std"}}` or `{"column", "one_hot": [...]}`); `output`
    is `{"type": "regression"}`, `{"type": "binary", "threshold": 0.5}` or
    `{"type": "multiclass", "classes": [...]}`. Returns the spec."""
    import numpy as np

    if not layers:
        raise ValueError("a model needs at least one layer")
    shapes = [np.asarray(w).shape for w, _ in layers]
    inputs = sum(len(f["one_hot"]) if isinstance(f, dict) and "one_hot" in f else 1
                 for f in features)
    if len(shapes[0]) != 2:
        raise ValueError(f"a layer's weight is [out, in]; the first layer's is {list(shapes[0])}")
    if shapes[0][1] != inputs:
        raise ValueError(f"the first layer takes {shapes[0][1]} inputs but the features give "
                         f"{inputs} (a one-hot feature gives one per category)")
    if len(layers) == 1:
        kind = {"regression": "linear_regression", "binary": "logistic_regression",
                "multiclass": "softmax_regression"}[output["type"]]
        architecture: Dict[str, Any] = {"type": kind}
    else:
        architecture = {"type": "mlp", "hidden_layers": [int(s[0]) for s in shapes[:-1]],
                        "activation": activation}
    spec = {
        "format": "verity-model/1",
        "architecture": architecture,
        "features": [f if isinstance(f, dict) else {"column": str(f)} for f in features],
        "output": output,
    }
    tensors: Dict[str, Any] = {}
    for k, (weight, bias) in enumerate(layers):
        tensors[f"{2 * k}.weight"] = weight
        if bias is not None:
            tensors[f"{2 * k}.bias"] = bias
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "verity-model.json"), "w") as f:
        json.dump(spec, f, indent=2)
    write_safetensors(os.path.join(directory, "model.safetensors"), tensors)
    return spec


# PyTorch activation modules and their names in the model format.
_TORCH_ACTIVATIONS = {"ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "GELU": "gelu"}
# Modules that do nothing at inference time.
_TORCH_NO_OPS = ("Dropout", "AlphaDropout", "Identity")


def torch_layers(module: Any, output: Dict[str, Any]) -> Tuple[List[Tuple[Any, Any]], str]:
    """Reads a PyTorch `nn.Linear`, or an `nn.Sequential` of Linear layers with one kind of
    activation between them (ReLU, Tanh, Sigmoid or exact GELU), into `(layers, activation)`
    for `save_model`. Dropout and Identity modules are skipped (they do nothing at inference).
    A final Sigmoid (binary output) or Softmax over the last dimension (multiclass) is the
    format's own output step and is dropped; any other final activation is refused, because
    the evaluation would not apply it. Weights are copied to the CPU as float32."""
    from torch import nn

    if isinstance(module, nn.Linear):
        modules = [(0, module)]
    elif isinstance(module, nn.Sequential):
        modules = [(i, m) for i, m in enumerate(module)
                   if type(m).__name__ not in _TORCH_NO_OPS]
    else:
        raise TypeError(f"expected a torch.nn.Sequential or nn.Linear, got {type(module).__name__}")
    final = {"binary": nn.Sigmoid, "multiclass": nn.Softmax}.get(output.get("type"))
    if modules and final is not None and isinstance(modules[-1][1], final):
        index, last = modules[-1]
        if isinstance(last, nn.Softmax) and last.dim not in (-1, 1):
            raise ValueError(f"module {index}: Softmax over dim {last.dim}; the format's "
                             f"softmax is over the classes (dim -1)")
        modules = modules[:-1]
    layers: List[Tuple[Any, Any]] = []
    activations: List[str] = []
    for position, (index, m) in enumerate(modules):
        kind = type(m).__name__
        if position % 2 == 0:
            if not isinstance(m, nn.Linear):
                raise ValueError(f"module {index} is {kind}; expected nn.Linear (the format is "
                                 f"Linear layers with one activation between them)")
            weight = m.weight.detach().cpu().float().numpy()
            bias = None if m.bias is None else m.bias.detach().cpu().float().numpy()
            layers.append((weight, bias))
            continue
        name = _TORCH_ACTIVATIONS.get(kind)
        if name is None:
            raise ValueError(f"module {index} is {kind}; between Linear layers the format takes "
                             f"{', '.join(_TORCH_ACTIVATIONS)}")
        if kind == "GELU" and getattr(m, "approximate", "none") != "none":
            raise ValueError(f"module {index}: GELU(approximate='{m.approximate}'); the format's "
                             f"gelu is the exact (erf) form, approximate='none'")
        activations.append(name)
    if not layers:
        raise ValueError("the network has no Linear layer")
    if len(layers) == len(activations):
        kind = type(modules[-1][1]).__name__
        raise ValueError(f"the network ends with {kind}: the evaluation applies sigmoid for a "
                         f"binary output, softmax for a multiclass one and nothing for "
                         f"regression, so a network whose output is '{output.get('type')}' "
                         f"must end with a Linear layer"
                         + (" (or Sigmoid)" if output.get("type") == "binary" else "")
                         + (" (or Softmax)" if output.get("type") == "multiclass" else ""))
    if len(set(activations)) > 1:
        raise ValueError(f"the format takes one kind of activation between layers; this "
                         f"network has {sorted(set(activations))}")
    return layers, activations[0] if activations else "relu"


def save_torch_model(directory: str, module: Any, features: Sequence[Any],
                     output: Dict[str, Any]) -> Dict[str, Any]:
    """Writes a PyTorch `nn.Sequential` of Linear layers (or one `nn.Linear`) in Verity's
    model format; see `torch_layers` for what it takes and `save_model` for the rest. The
    tensor names are the module's own `state_dict` names when it holds no Dropout or Identity
    modules. Returns the spec."""
    layers, activation = torch_layers(module, output)
    return save_model(directory, layers, features, output, activation)


def is_torch_module(value: Any) -> bool:
    """Whether `value` is a PyTorch module (without importing PyTorch when it is not loaded)."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.nn.Module)
