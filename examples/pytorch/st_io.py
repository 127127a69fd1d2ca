"""safetensors in and out with numpy only.

Writes with the ``safetensors`` package when it is installed, else by hand (the format is
small: an 8-byte little-endian header length, a JSON header, then the data; each tensor's
``data_offsets`` are relative to the start of the data). Reading is always by hand, so the
check in export_checkpoint.py does not trust the writer it checks.
"""

from __future__ import annotations

import json
import struct
from typing import Dict, Tuple

import numpy as np

_TO_ST = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("float16"): "F16", np.dtype("int64"): "I64",
          np.dtype("int32"): "I32"}
_FROM_ST = {v: k for k, v in _TO_ST.items()}


def save(path: str, tensors: Dict[str, np.ndarray], metadata: Dict[str, str] | None = None, use_package: bool = True) -> str:
    """Writes ``tensors`` (in dict order) to ``path``; returns which writer was used."""
    tensors = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    for k, v in tensors.items():
        if v.dtype not in _TO_ST:
            raise ValueError(f"{k}: unsupported dtype {v.dtype}")
    if use_package:
        try:
            from safetensors.numpy import save_file
        except ImportError:
            pass
        else:
            save_file(tensors, path, metadata=metadata)
            return "safetensors package"
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _TO_ST[arr.dtype], "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * ((8 - len(head) % 8) % 8)  # data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
    return "by hand"


def load(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """Reads a safetensors file (F32, F64, F16, I64, I32; BF16 widened to float32)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = memoryview(raw)[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        buf = data[b:end]
        if e["dtype"] == "BF16":
            u = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=_FROM_ST[e["dtype"]].newbyteorder("<"))
        out[name] = arr.reshape(e["shape"]).copy()
    return out, meta
