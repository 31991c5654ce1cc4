"""Mixture of experts: a feed-forward sublayer of n expert MLPs, of which each token uses only the top k.

A router scores every token against every expert, keeps the k best experts and mixes their outputs with
the router's probabilities, renormalised over the k chosen experts (as Mixtral does). The total number
of parameters grows with the number of experts, while the compute per token grows only with k.

Routers tend to collapse onto a few experts, which then get all the training signal. The load-balancing
loss of the Switch Transformer (Fedus et al., 2022, "Switch Transformers: Scaling to Trillion Parameter
Models with Simple and Efficient Sparsity", eq. 4) counters this:

    aux_loss = n * sum_i f_i * P_i

where f_i is the fraction of the token-to-expert assignments that go to expert i and P_i is the mean
router probability of expert i. Both sum to 1, so the loss is 1 when the routing is uniform and n when
every token goes to one expert. Only P_i carries a gradient: it pushes probability away from the experts
that receive more than their share.

Shapes in comments use N = number of tokens (B * T), C = n_embd, E = n_experts, K = expert_top_k,
H = expert_hidden_size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn as nn
import torch.nn.functional as F

if TYPE_CHECKING:
    from gpt_from_scratch.model import GPTConfig


@dataclass
class Routing:
    """The router's decision for N tokens."""

    probs: torch.Tensor  # (N, E) softmax over all experts
    weights: torch.Tensor  # (N, K) float32 mixing weights of the chosen experts
    experts: torch.Tensor  # (N, K) indices of the chosen experts, most probable first


class Router(nn.Module):
    """Linear scores of each token for each expert, then top-k selection."""

    def __init__(self, n_embd: int, n_experts: int, top_k: int):
        super().__init__()
        self.top_k = top_k
        self.gate = nn.Linear(n_embd, n_experts, bias=False)

    def forward(self, x: torch.Tensor) -> Routing:
        logits = self.gate(x)  # (N, E)
        probs = F.softmax(logits.float(), dim=-1)  # float32 even under autocast: the probabilities feed the aux loss
        top_probs, experts = probs.topk(self.top_k, dim=-1)  # (N, K), (N, K)
        if self.top_k == 1:
            # Renormalising one probability would give a constant weight of 1 and cut the router off from the
            # language-model gradient, so top-1 keeps the raw probability, as the Switch Transformer does.
            weights = top_probs
        else:
            weights = top_probs / top_probs.sum(dim=-1, keepdim=True)
        return Routing(probs=probs, weights=weights, experts=experts)


def load_balancing_loss(probs: torch.Tensor, experts: torch.Tensor) -> torch.Tensor:
    """Return n * sum_i f_i * P_i for router probabilities (N, E) and chosen experts (N, K); see the module doc."""
    n_experts = probs.size(-1)
    assignments = F.one_hot(experts, n_experts).float()  # (N, K, E)
    fraction_routed = assignments.mean(dim=(0, 1))  # (E,) f_i, sums to 1, no gradient
    mean_probability = probs.mean(dim=0)  # (E,) P_i, sums to 1
    return n_experts * torch.sum(fraction_routed * mean_probability)


class Expert(nn.Module):
    """One expert: Linear(C -> H), GELU, Linear(H -> C), the dense MLP with its own hidden width."""

    def __init__(self, n_embd: int, hidden_size: int, bias: bool):
        super().__init__()
        # The names match the dense MLP, so GPT's init scales c_proj as a residual projection here too.
        self.c_fc = nn.Linear(n_embd, hidden_size, bias=bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(hidden_size, n_embd, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(self.gelu(self.c_fc(x)))


class MoE(nn.Module):
    """The feed-forward sublayer as a mixture of experts: (B, T, C) -> (B, T, C).

    Every token is processed by exactly K experts, because there is no capacity limit and no token is
    dropped. So a token's output does not depend on the other tokens of the batch, and KV-cache generation
    gives the same logits as a full forward pass.

    Each forward pass stores ``aux_loss`` (the load-balancing loss, a scalar with gradient) and
    ``tokens_per_expert`` (E,), the number of assignments per expert, for the training loop to read.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_experts = config.n_experts
        self.top_k = config.expert_top_k
        self.router = Router(config.n_embd, config.n_experts, config.expert_top_k)
        self.experts = nn.ModuleList(
            [Expert(config.n_embd, config.expert_hidden_size, config.bias) for _ in range(config.n_experts)]
        )
        self.dropout = nn.Dropout(config.dropout)
        self.aux_loss: torch.Tensor | None = None
        self.tokens_per_expert: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        tokens = x.reshape(B * T, C)  # (N, C): routing is per token
        routing = self.router(tokens)

        out = torch.zeros_like(tokens)  # (N, C)
        # NOTE: looping over the experts is the readable form, not the fast one: on a GPU each torch.where
        # waits for the device, and production MoE layers run all experts in one grouped matrix product.
        for index, expert in enumerate(self.experts):
            # token_ids: which tokens chose this expert; slot: whether as their 1st, 2nd, ... choice.
            token_ids, slot = torch.where(routing.experts == index)  # (M,), (M,)
            # NOTE: an expert that no token chose still runs on an empty batch, so that its weights get a
            # (zero) gradient. DistributedDataParallel waits for a gradient of every parameter at each step.
            expert_out = expert(tokens[token_ids])  # (M, C)
            gate = routing.weights[token_ids, slot, None]  # (M, 1)
            out.index_add_(0, token_ids, (expert_out * gate).to(out.dtype))

        self.aux_loss = load_balancing_loss(routing.probs, routing.experts)
        self.tokens_per_expert = torch.bincount(routing.experts.flatten(), minlength=self.n_experts).detach()
        return self.dropout(out.view(B, T, C))

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def num_active_params(self) -> int:
        """Count the parameters that one token uses: the router and K experts."""
        router = sum(p.numel() for p in self.router.parameters())
        expert = sum(p.numel() for p in self.experts[0].parameters())
        return router + self.top_k * expert


class ExpertUsage:
    """Routing statistics of a model's MoE layers, summed over the training steps between two log rows."""

    def __init__(self, moe_layers: list[MoE]):
        self.layers = moe_layers
        self.enabled = bool(moe_layers)
        self.last_usage: list[list[float]] = []  # the latest summary's fractions, one list per layer
        self._counts: torch.Tensor | None = None  # (layers, E) assignments per expert
        self._aux_loss: torch.Tensor | None = None

    def add(self, aux_loss: torch.Tensor) -> None:
        """Add the assignments of the last forward pass and its aux loss (already divided by the micro-batches)."""
        counts = torch.stack([moe.tokens_per_expert for moe in self.layers]).float()  # (layers, E)
        aux_loss = aux_loss.detach().float()
        if self._counts is None:
            self._counts, self._aux_loss = counts, aux_loss
        else:
            self._counts += counts
            self._aux_loss += aux_loss

    def summary_and_reset(self, iters: int) -> dict[str, Any]:
        """Return the mean aux loss per step and the fraction of tokens per expert of each layer, then restart."""
        if self._counts is None:
            return {}
        usage = self._counts / self._counts.sum(dim=1, keepdim=True)
        self.last_usage = [[round(f, 4) for f in layer] for layer in usage.tolist()]
        summary = {"aux_loss": self._aux_loss.item() / iters, "expert_usage": self.last_usage}
        self._counts = self._aux_loss = None
        return summary
