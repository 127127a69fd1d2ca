"""Runs an export's custom-op graph in ONNX Runtime (Python) and compares it with the reference graph.

    python3 examples/python/run_custom_ops.py --model OUT [--library PATH] [--batch 8] [--seed 0] [--atol 1e-5]

OUT is the --out folder of `msn-export export` (model.custom.onnx, model.reference.onnx). Both
graphs get the same random N(0, 1) `tokens` [batch, T, D]; for every output the script prints the
largest absolute difference between the two graphs (for the int64 slot outputs: how many slots
differ) and exits 1 when any float output differs by more than --atol or any slot differs, 0
otherwise. Exit 2: bad arguments or a file that is missing.

The custom graph needs our op library, libmsn_ort_ops.so, registered with
`SessionOptions.register_custom_ops_library`. Where it is (the first that exists is used):
  --library PATH, or the environment variable MSN_ORT_OPS
  onnx-custom-ops/target/classes/native/linux-x86_64/libmsn_ort_ops.so   after a build of this repository
  native/libmsn_ort_ops.so                                                in an unpacked release (its root)
`--print-library` prints the path it would use and exits (no onnxruntime needed).

Slots: near-equal candidate scores can legitimately swap between two float32 implementations
(docs/model-contract.md, "Ties"); with random inputs that is rare, and this script counts any
difference as a failure. `msn-export verify --backends ort-reference,ort-custom` tells ties apart.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LIBRARY_NAME = "libmsn_ort_ops.so"
# Where a build of this repository puts the library, and where an unpacked release keeps it.
LIBRARY_PLACES = (
    os.path.join("onnx-custom-ops", "target", "classes", "native", "linux-x86_64", LIBRARY_NAME),
    os.path.join("native", LIBRARY_NAME),
)


def find_library(explicit: Optional[str], roots: List[str]) -> Tuple[Optional[str], List[str]]:
    """The op library to register: explicit (--library or MSN_ORT_OPS) if given, else the first of
    LIBRARY_PLACES under one of roots that exists. Returns (path or None, the paths tried)."""
    if explicit:
        return (explicit if os.path.isfile(explicit) else None), [explicit]
    tried = []
    for root in roots:
        for place in LIBRARY_PLACES:
            p = os.path.join(root, place)
            tried.append(p)
            if os.path.isfile(p):
                return p, tried
    return None, tried


def compare(reference: Dict[str, np.ndarray], custom: Dict[str, np.ndarray], atol: float) -> Tuple[List[str], bool]:
    """One line per output (in the reference's order) and whether all pass: float outputs by their
    largest absolute difference (NaN anywhere fails), integer outputs by the count of differing
    elements (any fails). An output missing from either side, or of another shape, fails."""
    lines, ok = [], True
    for name, ref in reference.items():
        if name not in custom:
            lines.append(f"FAIL  {name}: missing from the custom graph's outputs")
            ok = False
            continue
        got = custom[name]
        if got.shape != ref.shape:
            lines.append(f"FAIL  {name}: shape {list(got.shape)}, reference {list(ref.shape)}")
            ok = False
            continue
        if np.issubdtype(ref.dtype, np.integer):
            differ = int(np.count_nonzero(got != ref))
            passed = differ == 0
            lines.append(f"{'PASS' if passed else 'FAIL'}  {name}: {differ} of {ref.size} slots differ")
        else:
            diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
            worst = float(np.max(diff)) if diff.size else 0.0
            passed = not np.isnan(diff).any() and worst <= atol
            lines.append(f"{'PASS' if passed else 'FAIL'}  {name}: max abs difference {worst:.3e} (limit {atol:g})")
        ok = ok and passed
    for name in custom:
        if name not in reference:
            lines.append(f"FAIL  {name}: not an output of the reference graph")
            ok = False
    return lines, ok


def run(path: str, tokens: np.ndarray, options=None) -> Dict[str, np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, {"tokens": tokens})))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="export directory (msn-export export --out)")
    ap.add_argument("--library", help=f"path of {LIBRARY_NAME} (default: $MSN_ORT_OPS, else searched, see above)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--atol", type=float, default=1e-5, help="largest absolute difference allowed (default 1e-5)")
    ap.add_argument("--print-library", action="store_true", help="print the op library's path and exit")
    args = ap.parse_args()

    roots = [os.getcwd(), REPO]
    library, tried = find_library(args.library or os.environ.get("MSN_ORT_OPS"), roots)
    if library is None:
        print(f"{LIBRARY_NAME} not found; tried: {', '.join(tried)}. Build the repository "
              f"(./mvnw -B package -DskipTests) or pass --library PATH.", file=sys.stderr)
        return 2
    if args.print_library:
        print(os.path.abspath(library))
        return 0
    if not args.model or args.batch < 1:
        ap.error("--model DIR is required, and --batch must be at least 1")
    custom_path = os.path.join(args.model, "model.custom.onnx")
    reference_path = os.path.join(args.model, "model.reference.onnx")
    for p in (custom_path, reference_path):
        if not os.path.isfile(p):
            print(f"{p} does not exist (run `msn-export export --checkpoint DIR --out {args.model}` first)", file=sys.stderr)
            return 2

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.register_custom_ops_library(library)  # the msn domain: PKMRetrieval, SparseGather

    # T and D from the graph's input [batch, T, D]; the batch dimension is symbolic.
    probe = ort.InferenceSession(reference_path, providers=["CPUExecutionProvider"])
    shape = probe.get_inputs()[0].shape
    del probe
    tokens = np.random.default_rng(args.seed).standard_normal((args.batch, shape[1], shape[2])).astype(np.float32)

    reference = run(reference_path, tokens)
    custom = run(custom_path, tokens, options)
    print(f"onnxruntime {ort.__version__}, op library {library}, tokens {list(tokens.shape)} (seed {args.seed})")
    lines, ok = compare(reference, custom, args.atol)
    print("\n".join(lines))
    print("custom graph matches the reference graph" if ok else "custom graph DIFFERS from the reference graph")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
