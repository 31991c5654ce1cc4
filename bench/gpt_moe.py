"""Benchmark: mixture of experts against a dense GPT with the same active parameters, on Tiny Shakespeare (char).

Every row trains the Shakespeare character-level CPU config (4 layers, 4 heads, 128 dims, block 64, batch 12)
for the same iterations with the same seed and schedule. Only the feed-forward sublayer differs:

- dense: one MLP of width 4 * 128 = 512 per block;
- MoE 4 x 256, top-2: four experts of width 256 and two per token, as in Mixtral. A token passes through
  2 x 256 = 512 hidden units, as in the dense MLP, so the active parameters match (plus a 128 x 4 router
  per block), while the block holds twice the MLP weights;
- MoE 4 x 512, top-1: four experts of the dense width and one per token, as in the Switch Transformer:
  the same active parameters again, with four times the MLP weights.

The table shows, per row:

- the final validation loss, over 200 batches that are the same for every row;
- the median ms/iter of the metrics windows after the first;
- the total and active parameter counts, without position embeddings;
- the last load-balancing loss (1.0 is perfectly balanced) and the smallest and largest share of tokens that
  an expert received in the last logged window, over all layers.

A single seed is trained. In the cpu preset of the ``scaling``
command, the dense 4x128 model's val loss differed by 0.003 between two seeds (2000 iterations, the same
schedule), so differences of that size mean nothing.

    python bench/gpt_moe.py            # 2000 iterations per row, the full CPU config
    python bench/gpt_moe.py --quick    # 60 iterations per row, to check that it runs

Needs Tiny Shakespeare: set $AI_PRACTICE_DATA to a folder with tinyshakespeare.txt, or let the resolver download it.
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import torch

from gpt_from_scratch.config import TrainConfig
from gpt_from_scratch.data import prepare
from gpt_from_scratch.metrics import read_metrics
from gpt_from_scratch.training import train

VARIANTS = {
    "dense MLP 512": dict(n_experts=0),
    "MoE 4 x 256, top-2": dict(n_experts=4, expert_top_k=2, expert_hidden_size=256),
    "MoE 4 x 512, top-1": dict(n_experts=4, expert_top_k=1, expert_hidden_size=512),
}


def run_variant(name: str, changes: dict, base: TrainConfig, data_dir: Path, work_dir: Path) -> dict:
    """Train one variant and return its row of the table."""
    out_dir = work_dir / name.replace(" ", "_").replace(",", "")
    result = train(replace(base, **changes), data_dir, out_dir, device="cpu", progress=False)
    rows = read_metrics(out_dir / "metrics.jsonl")
    steps = [row for row in rows if row["kind"] == "step"]
    usage = [share for layer in steps[-1].get("expert_usage", []) for share in layer]
    return {
        "name": name,
        "total": result.model.num_params(),
        "active": result.model.num_active_params(),
        "val_loss": result.final_val_loss,
        "ms_per_iter": statistics.median(row["ms_per_iter"] for row in steps[1:] or steps),
        "aux_loss": steps[-1].get("aux_loss"),
        "usage": (min(usage), max(usage)) if usage else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 iterations per row and 10 evaluation batches")
    parser.add_argument("--iters", type=int, default=2000, help="training iterations per row (default: 2000)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args()
    iters, eval_iters = (60, 10) if args.quick else (args.iters, 200)
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)

    base = replace(TrainConfig(), max_iters=iters, lr_decay_iters=iters, warmup_iters=min(100, iters // 10),
                   eval_interval=iters, eval_iters=eval_iters, log_interval=max(1, min(50, iters // 6)))
    with tempfile.TemporaryDirectory() as tmp:
        work_dir = Path(tmp)
        prepare(work_dir / "data", dataset="shakespeare")
        table = [run_variant(name, changes, base, work_dir / "data", work_dir) for name, changes in VARIANTS.items()]

    print(f"\nMixture of experts vs dense, Tiny Shakespeare char, CPU config (4 layers, 128 dims, block 64, "
          f"batch 12), {iters} iterations, seed {base.seed}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}\n")
    print(f"| {'variant':<20} | {'total params':>12} | {'active params':>13} | {'val loss':>8} | {'ms/iter':>7} "
          f"| {'aux loss':>8} | {'expert share min-max':>20} |")
    print(f"|{'-' * 22}|{'-' * 14}|{'-' * 15}|{'-' * 10}|{'-' * 9}|{'-' * 10}|{'-' * 22}|")
    for row in table:
        aux = f"{row['aux_loss']:.3f}" if row["aux_loss"] is not None else "-"
        usage = f"{row['usage'][0]:.2f} - {row['usage'][1]:.2f}" if row["usage"] else "-"
        print(f"| {row['name']:<20} | {row['total']:>12,} | {row['active']:>13,} | {row['val_loss']:8.4f} | "
              f"{row['ms_per_iter']:7.1f} | {aux:>8} | {usage:>20} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
