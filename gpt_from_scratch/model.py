"""A GPT language model: a decoder-only Transformer with pre-LayerNorm blocks.

The layout follows GPT-2 (Radford et al., 2019, "Language Models are Unsupervised Multitask
Learners"). Learned token and position embeddings feed ``n_layer`` blocks of causal multi-head
self-attention and a GELU MLP, each wrapped as ``x + sublayer(LayerNorm(x))``. A final LayerNorm
and an output projection, which shares its weights with the token embedding, give the logits.
With ``n_experts > 0`` every block's MLP is a mixture of experts instead (``moe.py``).

Shapes in comments use B = batch size, T = sequence length, C = n_embd, H = n_head,
D = head size (C // H), V = vocab_size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from gpt_from_scratch.config import ATTENTION_KINDS, check_moe_fields
from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.moe import MoE

AttentionKind = Literal["fused", "explicit"]


@dataclass
class GPTConfig:
    """Model hyperparameters; ``vocab_size`` comes from the tokenizer."""

    vocab_size: int = 65
    block_size: int = 64  # maximum context length in tokens
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False  # biases in Linear layers and LayerNorms
    attention: AttentionKind = "fused"  # "fused": F.scaled_dot_product_attention; "explicit": matmul + mask + softmax
    n_experts: int = 0  # experts per MoE layer; 0 keeps the dense MLP
    expert_top_k: int = 2  # experts that process each token
    expert_hidden_size: int = 0  # hidden width of one expert; 0 means 4 * n_embd // expert_top_k (see below)

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head != 0:
            raise GPTError(f"n_embd={self.n_embd} is not divisible by n_head={self.n_head}; "
                           "choose n_embd = n_head * head size")
        if self.attention not in ATTENTION_KINDS:
            raise GPTError(f"invalid attention {self.attention!r}; use one of {', '.join(ATTENTION_KINDS)}")
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            if getattr(self, name) < 1:
                raise GPTError(f"{name}={getattr(self, name)} is invalid; it must be a positive integer")
        if not 0.0 <= self.dropout < 1.0:
            raise GPTError(f"dropout={self.dropout} is invalid; use a probability in [0, 1)")
        check_moe_fields(self.n_experts, self.expert_top_k, self.expert_hidden_size)
        if self.n_experts > 0 and self.expert_hidden_size == 0:
            # K experts of width 4C / K hold as many weights as the dense MLP of width 4C, so a token uses
            # the same number of parameters (and FLOPs) with or without experts.
            self.expert_hidden_size = max(1, 4 * self.n_embd // self.expert_top_k)


class KVCache:
    """Keys and values of every layer for the tokens seen so far, preallocated up to ``block_size``.

    During generation each new token attends to the cached keys and values instead of recomputing
    them, so one step costs O(T) instead of O(T^2) attention and a single-token MLP pass.
    """

    def __init__(self, config: GPTConfig, batch_size: int, device: torch.device | str, dtype: torch.dtype):
        head_size = config.n_embd // config.n_head
        shape = (config.n_layer, batch_size, config.n_head, config.block_size, head_size)
        self.keys = torch.zeros(shape, device=device, dtype=dtype)
        self.values = torch.zeros(shape, device=device, dtype=dtype)
        self.capacity = config.block_size
        self.length = 0  # number of cached positions, shared by all layers

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store the new keys and values of ``layer`` and return all cached ones, (B, H, length + T, D)."""
        new_tokens = k.size(2)
        end = self.length + new_tokens
        if end > self.capacity:
            raise GPTError(f"KV cache is full: {end} positions exceed block_size {self.capacity}; reset() it")
        self.keys[layer, :, :, self.length:end] = k
        self.values[layer, :, :, self.length:end] = v
        return self.keys[layer, :, :, :end], self.values[layer, :, :, :end]

    def advance(self, new_tokens: int) -> None:
        """Mark ``new_tokens`` more positions as cached, after every layer has appended them."""
        self.length += new_tokens

    def reset(self) -> None:
        self.length = 0


def causal_mask(num_queries: int, num_keys: int, device: torch.device) -> torch.Tensor:
    """Return the (T, S) boolean mask that is True where a query may attend to a key.

    The T queries are the last T of the S positions, so query i (absolute position S - T + i)
    attends to keys 0 .. S - T + i. The result is a lower-triangular matrix shifted right by the
    S - T cached keys.
    """
    return torch.ones(num_queries, num_keys, dtype=torch.bool, device=device).tril(diagonal=num_keys - num_queries)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position t attends only to positions <= t."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.attention = config.attention
        # One Linear computes the query, key and value projections of all heads at once.
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, kv_cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, H, T, D)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, H, T, D)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, H, T, D)

        if kv_cache is not None:
            k, v = kv_cache.append(layer, k, v)  # (B, H, S, D): the S = cached + T keys and values

        if self.attention == "explicit":
            y = self._explicit_attention(q, k, v)
        else:
            y = self._fused_attention(q, k, v)  # (B, H, T, D)

        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble the heads side by side
        return self.resid_dropout(self.c_proj(y))

    def _explicit_attention(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """softmax(q k^T / sqrt(D) + causal mask) v, written out step by step."""
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # (B, H, T, S)
        scores = scores.masked_fill(~causal_mask(q.size(2), k.size(2), q.device), float("-inf"))
        weights = F.softmax(scores, dim=-1)
        weights = self.attn_dropout(weights)
        return weights @ v  # (B, H, T, S) x (B, H, S, D) -> (B, H, T, D)

    def _fused_attention(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Compute the same attention with F.scaled_dot_product_attention (a flash or memory-efficient kernel)."""
        dropout_p = self.dropout if self.training else 0.0
        T, S = q.size(2), k.size(2)
        if T == S:
            return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
        if T == 1:
            # One new query at the last position attends to every cached key, so it needs no mask.
            return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
        # is_causal aligns its mask to the top-left corner, which is wrong after cached keys,
        # so several new queries after a cached prefix need the shifted mask.
        return F.scaled_dot_product_attention(q, k, v, attn_mask=causal_mask(T, S, q.device), dropout_p=dropout_p)


class MLP(nn.Module):
    """Position-wise feed-forward network: Linear(C -> 4C), GELU, Linear(4C -> C)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))  # (B, T, C)


class Block(nn.Module):
    """One Transformer block with pre-LayerNorm residual connections."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MoE(config) if config.n_experts > 0 else MLP(config)  # the feed-forward sublayer

    def forward(self, x: torch.Tensor, kv_cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), kv_cache, layer)
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    """The language model: token ids (B, T) in, next-token logits (B, T, V) out."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),  # token embedding
                wpe=nn.Embedding(config.block_size, config.n_embd),  # position embedding
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # Weight tying (Press & Wolf, 2017): the output projection reuses the token embedding matrix.
        self.transformer.wte.weight = self.lm_head.weight

        self.apply(self._init_weights)
        # GPT-2 scales the init of each projection that adds into the residual stream by 1/sqrt(2 * n_layer),
        # because every block adds two such outputs and the sum's variance would grow with depth.
        for name, param in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(param, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self, non_embedding: bool = True) -> int:
        """Count the parameters; by default without the position embedding, as nanoGPT reports.

        The token embedding stays in the count because weight tying makes it the output layer too.
        """
        total = sum(p.numel() for p in self.parameters())
        if non_embedding:
            total -= self.transformer.wpe.weight.numel()
        return total

    def num_active_params(self, non_embedding: bool = True) -> int:
        """Count the parameters that one token uses: as ``num_params``, less the experts that it skips."""
        skipped = sum(moe.num_params() - moe.num_active_params() for moe in self.moe_layers())
        return self.num_params(non_embedding) - skipped

    def moe_layers(self) -> list[MoE]:
        """Return the mixture-of-experts sublayers, one per block (empty for a dense model)."""
        return [block.mlp for block in self.transformer.h if isinstance(block.mlp, MoE)]

    def moe_aux_loss(self) -> torch.Tensor:
        """Return the load-balancing loss of the last forward pass, averaged over the MoE layers (0 if dense)."""
        losses = [moe.aux_loss for moe in self.moe_layers() if moe.aux_loss is not None]
        if not losses:
            return torch.zeros((), device=self.lm_head.weight.device)
        return torch.stack(losses).mean()

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
        only_last: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return the logits (B, T, V) and, when ``targets`` (B, T) are given, the mean cross-entropy loss.

        With ``kv_cache``, ``idx`` holds only the new tokens: they are placed after the cached ones,
        and their keys and values are added to the cache. ``only_last`` computes the logits of the last
        position alone, (B, 1, V), which is all that sampling needs.
        """
        B, T = idx.size()
        past = kv_cache.length if kv_cache is not None else 0
        if past + T > self.config.block_size:
            raise GPTError(
                f"sequence of {past + T} tokens exceeds block_size {self.config.block_size}; "
                f"crop the input to its last {self.config.block_size} tokens"
            )

        pos = torch.arange(past, past + T, dtype=torch.long, device=idx.device)  # (T,)
        tok_emb = self.transformer.wte(idx)  # (B, T, C)
        pos_emb = self.transformer.wpe(pos)  # (T, C), broadcast over the batch
        x = self.transformer.drop(tok_emb + pos_emb)
        for layer, block in enumerate(self.transformer.h):
            x = block(x, kv_cache, layer)
        x = self.transformer.ln_f(x)
        if kv_cache is not None:
            kv_cache.advance(T)

        if only_last:
            if targets is not None:
                raise ValueError("only_last=True computes no loss; pass targets=None")
            x = x[:, -1:, :]  # (B, 1, C), a view
        logits = self.lm_head(x)  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    def new_kv_cache(self, batch_size: int) -> KVCache:
        """Return an empty KV cache on the model's device and dtype."""
        weight = self.lm_head.weight
        return KVCache(self.config, batch_size, device=weight.device, dtype=weight.dtype)
