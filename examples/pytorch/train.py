"""Trains the MSN module (msn.py) on a synthetic CTR-like task and saves the weights.

The task ("hidden rule"): each of the T feature tokens is a categorical field with P
categories; a token is its category's prototype embedding (one fixed random D-vector per field
and category) plus Gaussian noise. Each task's logit is a sum of per-field effects and of
pairwise effects between fields (a random P x P table per field pair, like user x item
crosses), scaled to a fixed spread; labels are Bernoulli draws of the sigmoid. Which category a
token is near (which prototype direction) decides the label, and the pairwise tables are
lookups that a key-value memory can hold, so the memory slots matter. The Bayes-optimal loss
(the labels' own entropy) is printed as the floor.

    python3 examples/pytorch/train.py --out OUT_DIR [--steps 3000] [--seed 0] [--device auto]

Writes OUT_DIR/trained.pt (config + state_dict + summary), OUT_DIR/train.log (this output) and
OUT_DIR/train_summary.json. Float32 throughout (TF32 off). Seeds are fixed; on a GPU the
backward of the value gather accumulates with atomics, so a rerun can differ in the last bits.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from msn import MsnConfig, MsnModel  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_PROFILE = os.path.join(REPO, "profiles", "src", "main", "resources", "profiles", "small.json")


class SyntheticCtr:
    """The hidden rule; everything is drawn from ``seed`` on the CPU, so it is the same on every device."""

    PAIRS = [(0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (1, 3), (4, 6), (5, 7)]

    def __init__(self, c: MsnConfig, seed: int = 1, categories: int = 32, noise: float = 0.3, logit_std: float = 2.5,
                 device: str = "cpu"):
        g = torch.Generator().manual_seed(seed)
        self.T, self.D, self.P, self.noise = c.T, c.D, categories, noise
        self.tasks = list(c.tasks)
        self.pairs = [(i % c.T, j % c.T) for i, j in self.PAIRS if i % c.T != j % c.T]
        self.protos = torch.randn(c.T, categories, c.D, generator=g)
        self.unary = {t: 0.5 * torch.randn(c.T, categories, generator=g) for t in self.tasks}
        self.pair_tables = {t: torch.randn(len(self.pairs), categories, categories, generator=g) for t in self.tasks}
        # scale each task's logit to the wanted spread, measured on a large sample
        cats = torch.randint(categories, (100_000, c.T), generator=g)
        self.scale = {t: logit_std / self._raw_logit(t, cats).std().item() for t in self.tasks}
        self.to(device)

    def to(self, device):
        self.device = device
        self.protos = self.protos.to(device)
        self.unary = {t: v.to(device) for t, v in self.unary.items()}
        self.pair_tables = {t: v.to(device) for t, v in self.pair_tables.items()}
        return self

    def _raw_logit(self, task, cats):
        z = sum(self.unary[task][f, cats[:, f]] for f in range(self.T))
        for p, (i, j) in enumerate(self.pairs):
            z = z + self.pair_tables[task][p, cats[:, i], cats[:, j]]
        return z

    def sample(self, n: int, g: torch.Generator):
        """tokens [n, T, D] float32, labels {task: [n, 1]}, true probabilities {task: [n, 1]}."""
        cats = torch.randint(self.P, (n, self.T), generator=g, device=self.device)
        tokens = self.protos[torch.arange(self.T, device=self.device), cats]  # [n, T, D]
        tokens = tokens + self.noise * torch.randn(tokens.shape, generator=g, device=self.device)
        probs, labels = {}, {}
        for t in self.tasks:
            p = torch.sigmoid(self.scale[t] * self._raw_logit(t, cats))[:, None]
            probs[t] = p
            labels[t] = torch.bernoulli(p, generator=g)
        return tokens, labels, probs


def auc(score: torch.Tensor, label: torch.Tensor) -> float:
    """ROC AUC by the rank-sum formula (ties in score are vanishingly rare here)."""
    s, y = score.flatten().double(), label.flatten().double()
    ranks = torch.empty_like(s)
    ranks[torch.argsort(s)] = torch.arange(1, len(s) + 1, dtype=torch.float64, device=s.device)
    pos = y.sum()
    neg = len(y) - pos
    return ((ranks * y).sum() - pos * (pos + 1) / 2).item() / (pos * neg).item()


def bce(probs_or_logits, labels, logits=True):
    f = F.binary_cross_entropy_with_logits if logits else F.binary_cross_entropy
    return sum(f(probs_or_logits[t], labels[t]) for t in labels) / len(labels)


@torch.no_grad()
def evaluate(model, data, c: MsnConfig, batch=4096):
    tokens, labels, probs = data
    model.eval()
    logits = {t: [] for t in c.tasks}
    used = {l: torch.zeros(c.slots, device=tokens.device) for l in c.msn_layers}
    for i in range(0, len(tokens), batch):
        z, ret = model(tokens[i:i + batch])
        for t in c.tasks:
            logits[t].append(z[t])
        for l, (slots, _) in ret.items():
            used[l] += torch.bincount(slots.flatten(), minlength=c.slots).float()
    model.train()
    logits = {t: torch.cat(v) for t, v in logits.items()}
    memory = {}
    for l, u in used.items():
        p = u / u.sum()
        nz = p[p > 0]
        memory[l] = {"used": (u > 0).float().mean().item(), "entropy_norm": (-(nz * nz.log()).sum() / math.log(c.slots)).item()}
    return {"loss": bce(logits, labels).item(), "auc": {t: auc(logits[t], labels[t]) for t in c.tasks}, "memory": memory}


class Tee:
    def __init__(self, path):
        self.f = open(path, "w")

    def __call__(self, *args):
        line = " ".join(str(a) for a in args)
        print(line, flush=True)
        self.f.write(line + "\n")
        self.f.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--profile", default=DEFAULT_PROFILE, help="profile or config.json (default: the small profile)")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0, help="model init and sampling seed")
    ap.add_argument("--task-seed", type=int, default=1, help="seed of the hidden rule")
    ap.add_argument("--eval-size", type=int, default=16384)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--max-seconds", type=float, default=240, help="stop early past this much training time")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    log = Tee(os.path.join(args.out, "train.log"))
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    c = MsnConfig.from_json_file(args.profile)
    log(f"# torch {torch.__version__}, device {device}"
        + (f" ({torch.cuda.get_device_name(0)})" if device == "cuda" else f" ({torch.get_num_threads()} threads)"))
    log(f"# config {json.dumps(c.to_dict())}")
    log(f"# args {json.dumps(vars(args))}")

    torch.manual_seed(args.seed)
    model = MsnModel(c)  # initialised on the CPU: the same weights whatever the device
    n_params = sum(p.numel() for p in model.parameters())
    n_mem = sum(p.numel() for n, p in model.named_parameters() if n.endswith(".values"))
    log(f"# parameters {n_params:,} ({n_mem:,} in value tables)")
    model.to(device)
    task = SyntheticCtr(c, seed=args.task_seed, device=device)
    g_eval = torch.Generator(device=device).manual_seed(10_000 + args.task_seed)
    eval_data = task.sample(args.eval_size, g_eval)
    bayes = bce(eval_data[2], eval_data[1], logits=False).item()
    log(f"# task: {task.P} categories per field, noise {task.noise}, field pairs {task.pairs}; "
        f"Bayes-optimal eval loss {bayes:.4f}, constant-predictor eval loss "
        f"{bce({t: v.mean().expand_as(v) for t, v in eval_data[1].items()}, eval_data[1], logits=False).item():.4f}")

    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    warmup = max(1, args.steps // 30)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps))))
    g_train = torch.Generator(device=device).manual_seed(args.seed)

    curve = []
    ev = evaluate(model, eval_data, c)
    initial = ev["loss"]
    log(f"{'step':>6} {'train_loss':>10} {'eval_loss':>9} " + " ".join(f"{'auc_' + t:>10}" for t in c.tasks)
        + "  memory(used, entropy/log n) per MSN layer   seconds")
    fmt_mem = lambda m: " ".join(f"L{l}:{v['used']:.3f},{v['entropy_norm']:.3f}" for l, v in m.items())
    log(f"{0:>6} {'-':>10} {ev['loss']:>9.4f} " + " ".join(f"{ev['auc'][t]:>10.4f}" for t in c.tasks) + f"  {fmt_mem(ev['memory'])}   0.0")
    curve.append({"step": 0, "eval_loss": ev["loss"], "auc": ev["auc"]})
    t0 = time.time()
    running, seen, step = 0.0, 0, 0
    for step in range(1, args.steps + 1):
        tokens, labels, _ = task.sample(args.batch, g_train)
        logits, _ = model(tokens)
        loss = bce(logits, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running += loss.item()
        seen += 1
        out_of_time = time.time() - t0 > args.max_seconds
        if step % args.eval_every == 0 or step == args.steps or out_of_time:
            ev = evaluate(model, eval_data, c)
            log(f"{step:>6} {running / seen:>10.4f} {ev['loss']:>9.4f} " + " ".join(f"{ev['auc'][t]:>10.4f}" for t in c.tasks)
                + f"  {fmt_mem(ev['memory'])}   {time.time() - t0:.1f}")
            curve.append({"step": step, "train_loss": running / seen, "eval_loss": ev["loss"], "auc": ev["auc"]})
            running, seen = 0.0, 0
        if out_of_time:
            log(f"# stopped at step {step}: past --max-seconds {args.max_seconds}")
            break
    secs = time.time() - t0
    summary = {"initial_eval_loss": initial, "final_eval_loss": ev["loss"], "bayes_eval_loss": bayes, "final_auc": ev["auc"],
               "final_memory": {str(k): v for k, v in ev["memory"].items()}, "steps": step, "batch": args.batch, "seconds": secs,
               "device": device, "torch": str(torch.__version__), "args": vars(args), "curve": curve}
    log(f"# eval loss {initial:.4f} -> {ev['loss']:.4f} (Bayes floor {bayes:.4f}) in {step} steps, {secs:.1f} s")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"config": c.to_dict(), "state_dict": state, "summary": summary}, os.path.join(args.out, "trained.pt"))
    with open(os.path.join(args.out, "train_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
