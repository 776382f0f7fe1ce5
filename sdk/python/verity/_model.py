"""Saving models in Verity's format (docs/models.md): `verity-model.json` and
`model.safetensors`, written with the standard library and NumPy, tensor names as PyTorch's
`state_dict` gives them for an `nn.Sequential` of Linear layers (`0.weight`, `0.bias`,
`2.weight`...)."""

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
