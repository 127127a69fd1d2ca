"""The MSN model of docs/model-contract.md as a PyTorch module.

Parameter names are the contract's checkpoint tensor names, so ``model.state_dict()`` is a
contract checkpoint as it stands (export_checkpoint.py only converts and writes it).

Every step follows the contract:
  token mixing -> LN; MSN (query projection, LN of each half; keys through Theta and a key LN,
  computed at forward time so Theta and the key LN train; scores times score_scale; two-stage
  product-key top-k; softmax over the k kept; weighted gather of values; gate) -> per-token FFN
  with exact (erf) GELU -> LN; heads: mean over tokens, MLP D -> head_hidden -> 1, sigmoid.

Retrieval is differentiable in the kept scores (so in queries, keys, Theta and the norms) and
in the values, not in the choice of indices, as in the paper.

Top-k and ties: the contract says "lower index first" in both stages. ``torch.topk`` does not
promise any order among equal values, so this module selects with ``torch.sort(stable=True,
descending=True)`` (equal values keep their original order, so the lower index wins); in the
second stage the k*k candidates are first put in ascending slot order, so among equal candidate
scores the lower slot wins. With random float data exact ties are vanishingly rare anyway, but
this way the module is exact on them too.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

LN_EPS = 1e-5

# The contract's config keys, in the order the profiles and config.json use.
CONFIG_KEYS = ["T", "D", "L", "msn_layers", "S", "k", "dk", "score_scale", "gate", "ffn_mult", "head_hidden", "tasks",
               "per_token_memory"]


@dataclass
class MsnConfig:
    T: int
    D: int
    L: int
    msn_layers: List[int]
    S: int
    k: int
    dk: int
    score_scale: float = 1.0
    gate: str = "tanh"
    ffn_mult: int = 2
    head_hidden: int = 64
    tasks: List[str] = field(default_factory=lambda: ["click", "finish"])
    per_token_memory: bool = False

    def __post_init__(self):
        if self.D % self.T != 0:
            raise ValueError(f"D={self.D} must be a multiple of T={self.T}")
        if not 1 <= self.k <= self.S:
            raise ValueError(f"k={self.k} must be in [1, S={self.S}]")
        if self.gate not in ("tanh", "sigmoid", "identity"):
            raise ValueError(f"gate must be tanh, sigmoid or identity, got {self.gate}")
        for l in self.msn_layers:
            if not 0 <= l < self.L:
                raise ValueError(f"msn layer {l} outside [0, {self.L})")

    @property
    def slots(self) -> int:
        return self.S * self.S

    @property
    def ffn_hidden(self) -> int:
        return self.ffn_mult * self.D

    @staticmethod
    def from_dict(d: dict) -> "MsnConfig":
        unknown = set(d) - set(CONFIG_KEYS)
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}")
        return MsnConfig(**{k: d[k] for k in CONFIG_KEYS if k in d})

    @staticmethod
    def from_json_file(path: str) -> "MsnConfig":
        """A config.json, or a profile file (its "model" block)."""
        with open(path) as f:
            d = json.load(f)
        return MsnConfig.from_dict(d["model"] if "model" in d else d)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in CONFIG_KEYS}


def stable_topk(x: torch.Tensor, k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Top-k along the last axis, descending; equal values: the lower index first."""
    vals, idx = torch.sort(x, dim=-1, descending=True, stable=True)
    return vals[..., :k], idx[..., :k]


def pkm_retrieval(a: torch.Tensor, b: torch.Tensor, k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """msn::PKMRetrieval: row scores a [N, S], col scores b [N, S] -> (weights [N, k], slots int64 [N, k]).

    Slots are i*S + j, sorted by descending candidate score a_i + b_j; weights are the softmax of
    the kept scores.
    """
    n, s = a.shape
    a_top, ti = stable_topk(a, k)  # [N, k]
    b_top, tj = stable_topk(b, k)
    cand = (a_top[:, :, None] + b_top[:, None, :]).reshape(n, k * k)
    slots = (ti[:, :, None] * s + tj[:, None, :]).reshape(n, k * k)
    # ascending slot order first, so that the stable sort below lets the lower slot win a tie
    order = torch.argsort(slots, dim=-1)
    cand = cand.gather(-1, order)
    slots = slots.gather(-1, order)
    top, pos = stable_topk(cand, k)
    return torch.softmax(top, dim=-1), slots.gather(-1, pos)


def token_mixing(x: torch.Tensor) -> torch.Tensor:
    """RankMixer mixing: [B, T, D] -> [B, T, T, h] -> swap axes 1, 2 -> [B, T, D]."""
    b, t, d = x.shape
    return x.reshape(b, t, t, d // t).transpose(1, 2).reshape(b, t, d)


def gate_fn(name: str, v: torch.Tensor) -> torch.Tensor:
    if name == "tanh":
        return torch.tanh(v)
    if name == "sigmoid":
        return torch.sigmoid(v)
    return v


class MsnMemory(nn.Module):
    """The MSN memory layer of one block (parameters blocks.{l}.msn.*)."""

    def __init__(self, c: MsnConfig):
        super().__init__()
        self.c = c
        dk, s, d = c.dk, c.S, c.D
        self.query = nn.Linear(d, 2 * dk)
        self.query_norm_row = nn.LayerNorm(dk, eps=LN_EPS)
        self.query_norm_col = nn.LayerNorm(dk, eps=LN_EPS)
        self.keys_row = nn.Parameter(torch.randn(s, dk))
        self.keys_col = nn.Parameter(torch.randn(s, dk))
        # Theta: the keys' learnable over-parameterisation, identity at the start
        self.theta_row = nn.Parameter(torch.eye(dk) + 0.02 * torch.randn(dk, dk))
        self.theta_col = nn.Parameter(torch.eye(dk) + 0.02 * torch.randn(dk, dk))
        self.key_norm_row = nn.LayerNorm(dk, eps=LN_EPS)
        self.key_norm_col = nn.LayerNorm(dk, eps=LN_EPS)
        shape = (c.T, c.slots, d) if c.per_token_memory else (c.slots, d)
        # values near 1: tanh(v) passes the token through at the start and training shapes it
        self.values = nn.Parameter(1.0 + 0.5 * torch.randn(*shape))

    def effective_keys(self, half: str) -> torch.Tensor:
        """K' = LN(keys Theta^T) per key, [S, dk]; exporters fold this to a constant."""
        keys = getattr(self, "keys_" + half)
        theta = getattr(self, "theta_" + half)
        return getattr(self, "key_norm_" + half)(keys @ theta.T)

    def scores(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Row and column scores [B*T, S] of every token of x [B, T, D]."""
        c = self.c
        q = self.query(x).reshape(-1, 2 * c.dk)
        q_row = self.query_norm_row(q[:, :c.dk])
        q_col = self.query_norm_col(q[:, c.dk:])
        a = c.score_scale * (q_row @ self.effective_keys("row").T)
        b = c.score_scale * (q_col @ self.effective_keys("col").T)
        return a, b

    def forward(self, x: torch.Tensor):
        c = self.c
        bsz, t, d = x.shape
        a, b = self.scores(x)
        w, slots = pkm_retrieval(a, b, c.k)  # [N, k]
        if c.per_token_memory:
            rows = slots + (torch.arange(t, device=x.device) * c.slots).repeat(bsz)[:, None]
            table = self.values.reshape(t * c.slots, d)
        else:
            rows = slots
            table = self.values
        v = (w[:, :, None] * table[rows]).sum(dim=1).reshape(bsz, t, d)
        return x * gate_fn(c.gate, v), slots.reshape(bsz, t, c.k), w.reshape(bsz, t, c.k)


class PerTokenFFN(nn.Module):
    """y_t = W2_t gelu(W1_t x_t + b1_t) + b2_t, each token its own weights (blocks.{l}.ffn.*)."""

    def __init__(self, c: MsnConfig):
        super().__init__()
        t, h, d = c.T, c.ffn_hidden, c.D
        self.w1 = nn.Parameter(torch.empty(t, h, d).uniform_(-1, 1) * math.sqrt(6.0 / (h + d)))
        self.b1 = nn.Parameter(torch.zeros(t, h))
        self.w2 = nn.Parameter(torch.empty(t, d, h).uniform_(-1, 1) * math.sqrt(6.0 / (h + d)))
        self.b2 = nn.Parameter(torch.zeros(t, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.gelu(torch.einsum("btd,thd->bth", x, self.w1) + self.b1, approximate="none")
        return torch.einsum("bth,tdh->btd", h, self.w2) + self.b2


class Block(nn.Module):
    def __init__(self, c: MsnConfig, is_msn: bool):
        super().__init__()
        self.mix_norm = nn.LayerNorm(c.D, eps=LN_EPS)
        self.msn = MsnMemory(c) if is_msn else None
        self.ffn = PerTokenFFN(c)
        self.ffn_norm = nn.LayerNorm(c.D, eps=LN_EPS)

    def forward(self, x: torch.Tensor):
        x = self.mix_norm(x + token_mixing(x))
        retrieval = None
        if self.msn is not None:
            x, slots, weights = self.msn(x)
            retrieval = (slots, weights)
        x = self.ffn_norm(x + self.ffn(x))
        return x, retrieval


class Head(nn.Module):
    """D -> head_hidden -> 1 with exact GELU between (heads.{task}.*); returns the logit."""

    def __init__(self, c: MsnConfig):
        super().__init__()
        hh, d = c.head_hidden, c.D
        self.w1 = nn.Parameter(torch.empty(hh, d).uniform_(-1, 1) * math.sqrt(6.0 / (hh + d)))
        self.b1 = nn.Parameter(torch.zeros(hh))
        self.w2 = nn.Parameter(torch.empty(1, hh).uniform_(-1, 1) * math.sqrt(6.0 / (hh + 1)))
        self.b2 = nn.Parameter(torch.zeros(1))

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return F.gelu(pooled @ self.w1.T + self.b1, approximate="none") @ self.w2.T + self.b2


class MsnModel(nn.Module):
    def __init__(self, c: MsnConfig):
        super().__init__()
        self.c = c
        self.blocks = nn.ModuleList([Block(c, l in c.msn_layers) for l in range(c.L)])
        self.heads = nn.ModuleDict({task: Head(c) for task in c.tasks})

    def forward(self, tokens: torch.Tensor):
        """tokens [B, T, D] -> (logits {task: [B, 1]}, retrieval {layer: (slots [B, T, k] int64, weights [B, T, k])})."""
        x = tokens
        retrieval: Dict[int, Tuple[torch.Tensor, torch.Tensor]] = {}
        for l, block in enumerate(self.blocks):
            x, r = block(x)
            if r is not None:
                retrieval[l] = r
        pooled = x.mean(dim=1)
        return {task: head(pooled) for task, head in self.heads.items()}, retrieval

    def predict(self, tokens: torch.Tensor):
        """The contract's outputs: a probability [B, 1] per task, and the retrieval per MSN layer."""
        logits, retrieval = self(tokens)
        return {task: torch.sigmoid(z) for task, z in logits.items()}, retrieval
