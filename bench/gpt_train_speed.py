"""Benchmark: training speed of gpt_from_scratch against a plain nanoGPT-style loop, same model and batch.

All rows train the Shakespeare character-level CPU config (4 layers, 4 heads, 128 dims, block 64, batch 12,
vocabulary 65) on a synthetic 65-character corpus: speed does not depend on the text. The rows are

- package fused / explicit: ``gpt_from_scratch.train`` itself, with each attention implementation, timed from
  its own ``metrics.jsonl`` (which leaves evaluation out);
- package bf16: the fused row under bfloat16 autocast (``--dtype bfloat16``), to decide the CPU default;
- plain loop: a minimal model and loop written below in the style of nanoGPT's train.py (no checkpointing,
  metrics or progress bar), with fused attention.

Each variant runs ``--rounds`` times, interleaved with the others, and the table shows the median of the
per-window ms/iter over all rounds, after the first window of each run (warm-up) is dropped.

    python bench/gpt_train_speed.py            # 3 rounds of 200 iterations
    python bench/gpt_train_speed.py --quick    # 1 round of 40 iterations

Target: the package at least as fast as the plain loop (ratio >= 1.0 in the last column).
"""

from __future__ import annotations

import argparse
import logging
import math
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from gpt_from_scratch.config import TrainConfig
from gpt_from_scratch.data import load_tokens, prepare
from gpt_from_scratch.metrics import read_metrics
from gpt_from_scratch.training import train

LOG_WINDOW = 10  # iterations per timing window


# ---------------------------------------------------------------- the plain nanoGPT-style model and loop


class PlainAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=False)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class PlainBlock(nn.Module):
    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, bias=False)
        self.attn = PlainAttention(n_embd, n_head)
        self.ln_2 = nn.LayerNorm(n_embd, bias=False)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd, bias=False), nn.GELU(),
                                 nn.Linear(4 * n_embd, n_embd, bias=False))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class PlainGPT(nn.Module):
    def __init__(self, vocab_size: int, block_size: int, n_layer: int, n_head: int, n_embd: int):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList([PlainBlock(n_embd, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd, bias=False)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.wte.weight = self.lm_head.weight
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1)))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def plain_loop_ms_per_iter(data_dir: Path, config: TrainConfig, vocab_size: int, iters: int) -> list[float]:
    """Train the plain model as nanoGPT's train.py does and return the ms/iter of each window after the first."""
    torch.manual_seed(config.seed)
    model = PlainGPT(vocab_size, config.block_size, config.n_layer, config.n_head, config.n_embd)
    params = [p for p in model.parameters()]
    optimizer = torch.optim.AdamW(
        [{"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
         {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
        lr=config.learning_rate, betas=(config.beta1, config.beta2))
    train_path = data_dir / "train.bin"

    def get_batch():
        data = np.memmap(train_path, dtype=np.uint16, mode="r")  # re-opened per batch, as nanoGPT does
        ix = torch.randint(len(data) - config.block_size, (config.batch_size,))
        x = torch.stack([torch.from_numpy(data[i:i + config.block_size].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(data[i + 1:i + 1 + config.block_size].astype(np.int64)) for i in ix])
        return x, y

    def get_lr(it):
        if it < config.warmup_iters:
            return config.learning_rate * (it + 1) / (config.warmup_iters + 1)
        ratio = (it - config.warmup_iters) / (config.lr_decay_iters - config.warmup_iters)
        coefficient = 0.5 * (1.0 + math.cos(math.pi * min(ratio, 1.0)))
        return config.min_lr + coefficient * (config.learning_rate - config.min_lr)

    windows = []
    started = time.perf_counter()
    for it in range(iters):
        for group in optimizer.param_groups:
            group["lr"] = get_lr(it)
        x, y = get_batch()
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if (it + 1) % LOG_WINDOW == 0:
            loss.item()
            now = time.perf_counter()
            windows.append(1000 * (now - started) / LOG_WINDOW)
            started = now
    return windows[1:]


# ---------------------------------------------------------------- the package


def package_ms_per_iter(data_dir: Path, config: TrainConfig, iters: int, work_dir: Path) -> list[float]:
    """Run gpt_from_scratch.train and return the ms/iter of each metrics window after the first."""
    run_config = TrainConfig(**{**config.to_dict(), "max_iters": iters, "eval_interval": iters + 1, "eval_iters": 1,
                                "log_interval": LOG_WINDOW})
    out_dir = Path(tempfile.mkdtemp(dir=work_dir))
    train(run_config, data_dir, out_dir, device="cpu", progress=False)
    rows = [row for row in read_metrics(out_dir / "metrics.jsonl") if row["kind"] == "step"]
    return [row["ms_per_iter"] for row in rows[1:]]


def synthetic_data(work_dir: Path) -> Path:
    rng = random.Random(0)
    alphabet = [chr(c) for c in range(32, 96)] + ["\n"]  # 65 characters, as in Tiny Shakespeare
    (work_dir / "corpus.txt").write_text("".join(rng.choice(alphabet) for _ in range(300_000)), encoding="utf-8")
    prepare(work_dir / "data", input_path=work_dir / "corpus.txt")
    return work_dir / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 40 iterations per variant")
    parser.add_argument("--iters", type=int, default=200, help="iterations per run (default: 200)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per variant, interleaved (default: 3)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args()
    iters, rounds = (40, 1) if args.quick else (args.iters, args.rounds)
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)

    base = TrainConfig()  # the CPU config
    variants = {
        "package, fused attention": lambda: package_ms_per_iter(data_dir, base, iters, work_dir),
        "package, explicit attention": lambda: package_ms_per_iter(
            data_dir, TrainConfig(**{**base.to_dict(), "attention": "explicit"}), iters, work_dir),
        "package, fused, bf16 autocast": lambda: package_ms_per_iter(
            data_dir, TrainConfig(**{**base.to_dict(), "dtype": "bfloat16"}), iters, work_dir),
        "plain nanoGPT-style loop, fused": lambda: plain_loop_ms_per_iter(data_dir, base, vocab_size, iters),
    }

    with tempfile.TemporaryDirectory() as tmp:
        work_dir = Path(tmp)
        data_dir = synthetic_data(work_dir)
        vocab_size = int(max(load_tokens(data_dir, "train"))) + 1
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, run in variants.items():
                samples[name].extend(run())

    tokens_per_iter = base.batch_size * base.block_size
    plain_ms = statistics.median(samples["plain nanoGPT-style loop, fused"])
    print(f"\nGPT training speed, CPU config (4 layers, 4 heads, 128 dims, block 64, batch 12): "
          f"{rounds} round(s) of {iters} iterations")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}\n")
    print(f"| {'variant':<32} | {'ms/iter':>8} | {'tokens/s':>9} | {'speed vs plain':>14} |")
    print(f"|{'-' * 34}|{'-' * 10}|{'-' * 11}|{'-' * 16}|")
    for name, values in samples.items():
        ms = statistics.median(values)
        print(f"| {name:<32} | {ms:8.1f} | {1000 * tokens_per_iter / ms:9,.0f} | {plain_ms / ms:13.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
