"""Benchmark: sampling speed with and without the KV cache.

Generates ``--new-tokens`` tokens (default 256) after a 16-token prompt with ``gpt_from_scratch.generate_ids``,
once feeding only the newest token against the cached keys and values, once recomputing the whole context at
every step. The models have random weights, since speed does not depend on them. Their block size is 512, so
the context never slides. (Once a window of ``block_size`` tokens is full and slides, every cached key is
stale, and ``generate_ids`` rebuilds the cache at each step.)

Model shapes: the two bundled Shakespeare configs, with vocabulary 65 and block size 512.

    python bench/gpt_kv_cache.py                 # best of 3 runs, 256 new tokens, torch's thread count
    python bench/gpt_kv_cache.py --threads 1 2   # one row per shape and thread count
    python bench/gpt_kv_cache.py --quick         # 1 run, 64 new tokens

Target: at least 5x faster with the cache for 256 new tokens. The speed-up grows with the model: the cache
saves the work that grows with the context, but each cached step keeps a fixed cost per operation.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import torch

from gpt_from_scratch.config import load_config_file
from gpt_from_scratch.devices import resolve_device
from gpt_from_scratch.model import GPT
from gpt_from_scratch.sample import SamplingSettings, generate_ids

PROMPT_TOKENS = 16
BLOCK_SIZE = 512
VOCAB_SIZE = 65


def time_generation(model: GPT, new_tokens: int, use_cache: bool, repeats: int, device: torch.device) -> float:
    """Return the best wall time in seconds of generating ``new_tokens`` tokens (greedy, batch 1)."""
    prompt = torch.randint(VOCAB_SIZE, (1, PROMPT_TOKENS), generator=torch.Generator().manual_seed(0)).to(device)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in generate_ids(model, prompt, new_tokens, SamplingSettings(temperature=0), use_cache=use_cache):
            pass
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run of 64 new tokens")
    parser.add_argument("--new-tokens", type=int, default=256, help="tokens to generate (default: 256)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the best is kept (default: 3)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    parser.add_argument("--threads", type=int, nargs="+", metavar="N",
                        help="torch intra-op thread counts to measure, one row each (default: torch's choice)")
    args = parser.parse_args()
    new_tokens, repeats = (64, 1) if args.quick else (args.new_tokens, args.repeats)
    if PROMPT_TOKENS + new_tokens > BLOCK_SIZE:
        parser.error(f"--new-tokens must be at most {BLOCK_SIZE - PROMPT_TOKENS}, so that the context never slides")
    device = resolve_device(args.device)
    thread_counts = args.threads or [torch.get_num_threads()]

    print(f"\nKV-cache sampling: {PROMPT_TOKENS}-token prompt + {new_tokens} new tokens, greedy, batch 1, "
          f"best of {repeats}")
    print(f"torch {torch.__version__}, device {device}, {platform.processor() or platform.machine()}\n")
    print(f"| {'model shape':<38} | {'threads':>7} | {'no cache (s)':>12} | {'cache (s)':>9} "
          f"| {'tokens/s (cache)':>16} | {'speed-up':>8} |")
    print(f"|{'-' * 40}|{'-' * 9}|{'-' * 14}|{'-' * 11}|{'-' * 18}|{'-' * 10}|")
    for name in ("shakespeare_char_cpu", "shakespeare_char_gpu"):
        config = load_config_file(name)
        torch.manual_seed(0)
        model_config = config.model_config(VOCAB_SIZE)
        model_config.block_size = BLOCK_SIZE
        model = GPT(model_config).to(device).eval()
        shape = f"{name} ({config.n_layer}L, {config.n_head}H, {config.n_embd}d)"
        for threads in thread_counts:
            torch.set_num_threads(threads)
            time_generation(model, 8, True, 1, device)  # warm-up: first calls allocate and pick kernels
            uncached = time_generation(model, new_tokens, False, repeats, device)
            cached = time_generation(model, new_tokens, True, repeats, device)
            print(f"| {shape:<38} | {threads:>7} | {uncached:12.2f} | {cached:9.2f} | {new_tokens / cached:16,.0f} "
                  f"| {uncached / cached:7.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
