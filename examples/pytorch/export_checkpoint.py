"""Writes a trained MSN module as an msn-export checkpoint, with golden inputs and outputs.

    python3 examples/pytorch/export_checkpoint.py --trained OUT_DIR/trained.pt --out CKPT_DIR [--batch 16] [--seed 1234]

CKPT_DIR gets:
  config.json         the contract's config keys, exactly as in a profile's "model" block
  model.safetensors   every contract tensor, float32, under the contract's names
  golden.safetensors  golden I/O (format msn-export.golden/1, producer pytorch):
                        inputs.tokens [B, T, D] F32 (samples of the training task),
                        outputs.{task} [B, 1] F32,
                        outputs.retrieval.{l}.slots [B, T, k] I64, outputs.retrieval.{l}.weights [B, T, k] F32
                      computed by the module in float64 (module.double()) from the float32
                      weights, so that other implementations can be held to a tight tolerance.
  export_check.json   the checks below
Checks: the weights read back (by a hand-written reader) equal the module's; the golden outputs
match an independent numpy float64 forward (reference_numpy.py); and the smallest float64 score
gaps around the kept top-k, which say how far a float32 implementation is from a tie.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_numpy  # noqa: E402
import st_io  # noqa: E402
from msn import MsnConfig, MsnModel, token_mixing  # noqa: E402
from train import SyntheticCtr  # noqa: E402

GOLDEN_FORMAT = "msn-export.golden/1"


def contract_names(c: MsnConfig):
    """The contract's tensor names and shapes, in the order of TensorLayout.java."""
    out = {}
    d, t, h, dk = c.D, c.T, c.ffn_hidden, c.dk
    for l in range(c.L):
        b = f"blocks.{l}."
        out[b + "mix_norm.weight"] = (d,)
        out[b + "mix_norm.bias"] = (d,)
        if l in c.msn_layers:
            p = b + "msn."
            out[p + "query.weight"] = (2 * dk, d)
            out[p + "query.bias"] = (2 * dk,)
            for half in ("row", "col"):
                out[p + f"query_norm_{half}.weight"] = (dk,)
                out[p + f"query_norm_{half}.bias"] = (dk,)
            for half in ("row", "col"):
                out[p + f"keys_{half}"] = (c.S, dk)
                out[p + f"theta_{half}"] = (dk, dk)
                out[p + f"key_norm_{half}.weight"] = (dk,)
                out[p + f"key_norm_{half}.bias"] = (dk,)
            out[p + "values"] = (t, c.slots, d) if c.per_token_memory else (c.slots, d)
        out[b + "ffn.w1"] = (t, h, d)
        out[b + "ffn.b1"] = (t, h)
        out[b + "ffn.w2"] = (t, d, h)
        out[b + "ffn.b2"] = (t, d)
        out[b + "ffn_norm.weight"] = (d,)
        out[b + "ffn_norm.bias"] = (d,)
    for task in c.tasks:
        p = f"heads.{task}."
        out[p + "w1"] = (c.head_hidden, d)
        out[p + "b1"] = (c.head_hidden,)
        out[p + "w2"] = (1, c.head_hidden)
        out[p + "b2"] = (1,)
    return out


@torch.no_grad()
def score_gaps(model64: MsnModel, tokens64: torch.Tensor):
    """Per MSN layer, in float64: the smallest gap between consecutive candidate scores among the
    k+1 best (a float32 implementation that errs by more than this could order or choose
    differently), and the smallest gap at each half's k-th place."""
    c = model64.c
    out = {}
    x = tokens64
    for l, block in enumerate(model64.blocks):
        x = block.mix_norm(x + token_mixing(x))
        if block.msn is not None:
            a, b = block.msn.scores(x)
            sa = torch.sort(a, dim=-1, descending=True).values
            sb = torch.sort(b, dim=-1, descending=True).values
            kk = min(c.k, c.S - 1)
            ta, ia = torch.topk(a, c.k)
            tb, ib = torch.topk(b, c.k)
            cand = (ta[:, :, None] + tb[:, None, :]).reshape(len(a), -1)
            sc = torch.sort(cand, dim=-1, descending=True).values[:, :c.k + 1]
            out[str(l)] = {
                "min_gap_among_top_k_plus_1_candidates": (sc[:, :-1] - sc[:, 1:]).min().item(),
                "min_gap_at_kth_candidate": (sc[:, c.k - 1] - sc[:, c.k]).min().item() if sc.shape[1] > c.k else None,
                "min_gap_at_kth_row_score": (sa[:, kk - 1] - sa[:, kk]).min().item(),
                "min_gap_at_kth_col_score": (sb[:, kk - 1] - sb[:, kk]).min().item(),
                "score_range": [min(a.min().item(), b.min().item()), max(a.max().item(), b.max().item())],
            }
            x, _, _ = block.msn(x)
        x = block.ffn_norm(x + block.ffn(x))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trained", required=True, help="trained.pt from train.py")
    ap.add_argument("--out", required=True)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1234, help="seed of the golden inputs")
    ap.add_argument("--hand-written", action="store_true", help="write safetensors by hand even if the package is installed")
    args = ap.parse_args()

    saved = torch.load(args.trained, map_location="cpu", weights_only=True)
    c = MsnConfig.from_dict(saved["config"])
    model = MsnModel(c)
    model.load_state_dict(saved["state_dict"])
    model.eval()
    os.makedirs(args.out, exist_ok=True)

    # config.json and model.safetensors
    expected = contract_names(c)
    state = model.state_dict()
    if set(state) != set(expected):
        raise SystemExit(f"state_dict names differ from the contract: extra {sorted(set(state) - set(expected))}, "
                         f"missing {sorted(set(expected) - set(state))}")
    weights = {}
    for name, shape in expected.items():
        t = state[name].detach().cpu().float()
        if tuple(t.shape) != shape:
            raise SystemExit(f"{name}: shape {tuple(t.shape)}, contract {shape}")
        weights[name] = t.numpy()
    with open(os.path.join(args.out, "config.json"), "w") as f:
        f.write(json.dumps(c.to_dict(), indent=2) + "\n")
    meta = {"format": "pt", "producer": "pytorch", "torch": str(torch.__version__)}
    writer = st_io.save(os.path.join(args.out, "model.safetensors"), weights, meta, use_package=not args.hand_written)

    # golden I/O, in float64 from the float32 weights
    task = SyntheticCtr(c, seed=saved["summary"]["args"].get("task_seed", 1), device="cpu")
    tokens, _, _ = task.sample(args.batch, torch.Generator().manual_seed(args.seed))
    tokens = tokens.float()
    model64 = copy.deepcopy(model).double()
    with torch.no_grad():
        probs, retrieval = model64.predict(tokens.double())
        probs32, retrieval32 = model.predict(tokens)
    golden = {"inputs.tokens": tokens.numpy()}
    for t in c.tasks:
        golden["outputs." + t] = probs[t].float().numpy()
    for l, (slots, w) in retrieval.items():
        golden[f"outputs.retrieval.{l}.slots"] = slots.to(torch.int64).numpy()
        golden[f"outputs.retrieval.{l}.weights"] = w.float().numpy()
    gpath = os.path.join(args.out, "golden.safetensors")
    st_io.save(gpath, golden, {"format": GOLDEN_FORMAT, "producer": "pytorch"}, use_package=not args.hand_written)

    # checks
    back, back_meta = st_io.load(os.path.join(args.out, "model.safetensors"))
    check = {"writer": writer, "weights_read_back_identical": all(np.array_equal(back[k], v) for k, v in weights.items())
             and set(back) == set(weights)}
    check["numpy_reference_vs_golden"] = reference_numpy.compare(args.out, gpath)
    check["torch_float32_vs_float64"] = {
        **{f"outputs.{t} max_abs": (probs32[t].double() - probs[t]).abs().max().item() for t in c.tasks},
        **{f"retrieval.{l}.slots identical": bool((retrieval32[l][0] == retrieval[l][0]).all()) for l in retrieval}}
    check["score_gaps_float64"] = score_gaps(model64, tokens.double())
    check["golden_mean_outputs"] = {t: probs[t].mean().item() for t in c.tasks}
    with open(os.path.join(args.out, "export_check.json"), "w") as f:
        json.dump(check, f, indent=1)
    print(json.dumps(check, indent=1))
    ok = check["weights_read_back_identical"] and all(
        (v is True) or (isinstance(v, float) and v < 1e-6) for k, v in check["numpy_reference_vs_golden"].items() if k != "metadata")
    print(f"wrote {args.out}: config.json, model.safetensors ({writer}), golden.safetensors (B={args.batch}); checks "
          + ("PASS" if ok else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
