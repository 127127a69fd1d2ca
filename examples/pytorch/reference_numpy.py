"""A second, independent forward of docs/model-contract.md in numpy float64, straight from a
checkpoint directory. export_checkpoint.py uses it to cross-check the PyTorch module's golden
outputs; it also runs where PyTorch is missing:

    python3 examples/pytorch/reference_numpy.py CHECKPOINT_DIR GOLDEN.safetensors

compares its own forward with the golden file's outputs and slots.
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

_erf = np.vectorize(math.erf)


def ln(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def topk_lower_first(v, k):
    """Indices of the k largest of each row, descending, equal values lower index first."""
    return np.argsort(-v, axis=-1, kind="stable")[..., :k]


def forward(cfg, w, tokens):
    """tokens [B, T, D] -> ({task: [B, 1]}, {layer: (slots [B, T, k], weights [B, T, k])})."""
    T, D, S, k, dk = cfg["T"], cfg["D"], cfg["S"], cfg["k"], cfg["dk"]
    n = S * S
    scale = cfg.get("score_scale", 1.0)
    g = {kk: v.astype(np.float64) for kk, v in w.items()}
    x = tokens.astype(np.float64)
    B = x.shape[0]
    retrieval = {}
    for l in range(cfg["L"]):
        p = f"blocks.{l}."
        mixed = x.reshape(B, T, T, D // T).transpose(0, 2, 1, 3).reshape(B, T, D)
        x = ln(x + mixed, g[p + "mix_norm.weight"], g[p + "mix_norm.bias"])
        if l in cfg["msn_layers"]:
            m = p + "msn."
            q = x.reshape(B * T, D) @ g[m + "query.weight"].T + g[m + "query.bias"]
            qr = ln(q[:, :dk], g[m + "query_norm_row.weight"], g[m + "query_norm_row.bias"])
            qc = ln(q[:, dk:], g[m + "query_norm_col.weight"], g[m + "query_norm_col.bias"])
            kr = ln(g[m + "keys_row"] @ g[m + "theta_row"].T, g[m + "key_norm_row.weight"], g[m + "key_norm_row.bias"])
            kc = ln(g[m + "keys_col"] @ g[m + "theta_col"].T, g[m + "key_norm_col.weight"], g[m + "key_norm_col.bias"])
            a = scale * (qr @ kr.T)
            b = scale * (qc @ kc.T)
            slots = np.zeros((B * T, k), dtype=np.int64)
            wts = np.zeros((B * T, k))
            vals = g[m + "values"]
            v = np.zeros((B * T, D))
            for qi in range(B * T):
                ti = topk_lower_first(a[qi], k)
                tj = topk_lower_first(b[qi], k)
                cand_slot = (ti[:, None] * S + tj[None, :]).reshape(-1)
                cand = (a[qi, ti][:, None] + b[qi, tj][None, :]).reshape(-1)
                o = np.argsort(cand_slot, kind="stable")
                cand_slot, cand = cand_slot[o], cand[o]
                best = topk_lower_first(cand, k)
                s = cand[best]
                e = np.exp(s - s.max())
                wts[qi] = e / e.sum()
                slots[qi] = cand_slot[best]
                rows = vals[qi % T, slots[qi]] if cfg.get("per_token_memory") else vals[slots[qi]]
                v[qi] = wts[qi] @ rows
            act = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "identity": lambda z: z}[cfg.get("gate", "tanh")]
            x = x * act(v).reshape(B, T, D)
            retrieval[l] = (slots.reshape(B, T, k), wts.reshape(B, T, k))
        h = gelu(np.einsum("btd,thd->bth", x, g[p + "ffn.w1"]) + g[p + "ffn.b1"])
        y = np.einsum("bth,tdh->btd", h, g[p + "ffn.w2"]) + g[p + "ffn.b2"]
        x = ln(x + y, g[p + "ffn_norm.weight"], g[p + "ffn_norm.bias"])
    pooled = x.mean(1)
    out = {}
    for task in cfg["tasks"]:
        p = f"heads.{task}."
        z = gelu(pooled @ g[p + "w1"].T + g[p + "b1"]) @ g[p + "w2"].T + g[p + "b2"]
        out[task] = 1 / (1 + np.exp(-z))
    return out, retrieval


def compare(ckpt_dir, golden_path):
    """Max abs differences and slot equality between this forward and a golden file."""
    with open(os.path.join(ckpt_dir, "config.json")) as f:
        cfg = json.load(f)
    w, _ = st_io.load(os.path.join(ckpt_dir, "model.safetensors"))
    gold, meta = st_io.load(golden_path)
    out, ret = forward(cfg, w, gold["inputs.tokens"])
    report = {"metadata": meta}
    for task, v in out.items():
        report["outputs." + task + " max_abs"] = float(np.abs(v - gold["outputs." + task]).max())
    for l, (s, wt) in ret.items():
        report[f"retrieval.{l}.slots identical"] = bool((s == gold[f"outputs.retrieval.{l}.slots"]).all())
        report[f"retrieval.{l}.weights max_abs"] = float(np.abs(wt - gold[f"outputs.retrieval.{l}.weights"]).max())
    return report


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(json.dumps(compare(sys.argv[1], sys.argv[2]), indent=1))
