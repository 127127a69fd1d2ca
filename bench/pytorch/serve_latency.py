#!/usr/bin/env python3
"""PyTorch serving the MSN model directly: the peer that `msn-export bench` is held against.

Times examples/pytorch's reference module (msn.py, the contract's forward pass) on one GPU with
random weights of a profile's shapes, in the forms a serving team would try, and prints p50/p99
per batch in milliseconds, measured with CUDA events around each call (GPU time, as `bench`
reports for TensorRT engines):

  eager      the module as it stands, under torch.inference_mode();
  cudagraph  the same calls captured once per batch into a CUDA graph and replayed
             (torch.cuda.CUDAGraph; what torch.compile's "reduce-overhead" does for launches);
  compile    torch.compile(mode="reduce-overhead") (Inductor kernels + CUDA graphs); slow to
             compile (tens of seconds per batch size), so only with --modes compile.

Serving form: the constant key path (keys -> Theta -> LN) is folded once, as every exporter does,
so no mode recomputes it per call. fp16 runs the whole module in half precision (the best case for
PyTorch; the contract's fp16 engines keep retrieval scoring in float32). Percentiles follow
trtexec's rule (the one msn-export uses, core's Percentiles).

  python3 bench/pytorch/serve_latency.py --profile profiles/src/main/resources/profiles/paper.json \
      --batches 1,64,512,2048 --precisions fp32,fp16 --modes eager,cudagraph --iters 200 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "pytorch"))
import msn  # noqa: E402  (examples/pytorch/msn.py)


def trtexec_percentile(sorted_values, p):
    """trtexec's rule in single precision: leave out floor((1 - p/100) * n) of the largest."""
    import numpy as np
    n = len(sorted_values)
    excluded = int(np.float32(np.float32(1.0) - np.float32(p) / np.float32(100.0)) * np.float32(n))
    return sorted_values[max(n - 1 - excluded, 0)]


def fold_keys(model: msn.MsnModel):
    """Serving form: K' = LN(keys Theta^T) computed once per memory layer, as exporters fold it."""
    for block in model.blocks:
        m = block.msn
        if m is None:
            continue
        with torch.no_grad():
            cached = {h: m.effective_keys(h).detach().clone() for h in ("row", "col")}
        m.effective_keys = lambda half, _c=cached: _c[half]


def build(profile_path: str, precision: str, device: str) -> msn.MsnModel:
    cfg = msn.MsnConfig.from_json_file(profile_path)
    torch.manual_seed(0)
    model = msn.MsnModel(cfg).eval().to(device)
    fold_keys(model)
    if precision == "fp16":
        model = model.half()
        for block in model.blocks:
            if block.msn is not None:
                m = block.msn
                folded = {h: m.effective_keys(h).half() for h in ("row", "col")}
                m.effective_keys = lambda half, _c=folded: _c[half]
    return model


def time_calls(fn, iters: int, warmup: int):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for i in range(iters):
        starts[i].record()
        fn()
        ends[i].record()
    torch.cuda.synchronize()
    return sorted(s.elapsed_time(e) for s, e in zip(starts, ends))


def runner(model, x, mode: str):
    if mode == "eager":
        return lambda: model.predict(x)
    if mode == "cudagraph":
        static_x = x.clone()
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):  # warm up allocations outside the graph
                model.predict(static_x)
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            model.predict(static_x)
        return g.replay
    if mode == "compile":
        compiled = torch.compile(model.predict, mode="reduce-overhead", dynamic=False)
        return lambda: compiled(x)
    raise ValueError(f"unknown mode {mode}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", required=True, help="a profile JSON (its model block) or a config.json")
    ap.add_argument("--batches", default="1,64,512,2048")
    ap.add_argument("--precisions", default="fp32,fp16")
    ap.add_argument("--modes", default="eager,cudagraph")
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--json", help="write the rows here as JSON")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        print("serve_latency.py: no CUDA device", file=sys.stderr)
        return 3
    dev = "cuda"
    rows = []
    print(f"# {torch.cuda.get_device_name(0)}, torch {torch.__version__}, profile {a.profile}")
    print("| precision | mode | batch | p50 ms | p99 ms | setup s |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for precision in a.precisions.split(","):
        model = build(a.profile, precision, dev)
        dtype = torch.float16 if precision == "fp16" else torch.float32
        for mode in a.modes.split(","):
            for batch in [int(b) for b in a.batches.split(",")]:
                x = torch.randn(batch, model.c.T, model.c.D, device=dev).to(dtype)
                t0 = time.time()
                with torch.inference_mode():
                    try:
                        fn = runner(model, x, mode)
                        times = time_calls(fn, a.iters, a.warmup)
                    except Exception as e:  # a mode that fails is reported, not hidden
                        print(f"| {precision} | {mode} | {batch} | failed: {type(e).__name__}: {e} | | |")
                        rows.append({"precision": precision, "mode": mode, "batch": batch, "error": str(e)})
                        continue
                setup = time.time() - t0
                p50, p99 = trtexec_percentile(times, 50), trtexec_percentile(times, 99)
                rows.append({"precision": precision, "mode": mode, "batch": batch, "p50_ms": p50, "p99_ms": p99,
                             "iters": a.iters, "setup_s": setup})
                print(f"| {precision} | {mode} | {batch} | {p50:.3f} | {p99:.3f} | {setup:.1f} |", flush=True)
        del model
        torch.cuda.empty_cache()
    best = {}
    for r in rows:
        if "p99_ms" in r:
            key = (r["precision"], r["batch"])
            if key not in best or r["p99_ms"] < best[key]["p99_ms"]:
                best[key] = r
    print("\n# best p99 per precision and batch")
    for (p, b), r in sorted(best.items()):
        print(f"{p} batch {b}: {r['p99_ms']:.3f} ms ({r['mode']})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
