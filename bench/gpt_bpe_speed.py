"""Benchmark: the pure-Python BPE encoder with GPT-2's ranks against tiktoken, plus BPE training time.

Encodes all of Tiny Shakespeare with tiktoken's GPT-2 encoding and with ``BPETokenizer`` loaded from the same
ranks file, checks that the ids are identical, and prints throughput in MB/s (10^6 bytes of UTF-8 input per
second). "Cold cache" means a fresh encoder with an empty word cache for every run, so the time includes the
BPE merges of every distinct word. "Warm cache" encodes the text a second time with the same encoder.
Then it times training a BPE tokenizer to a 2048-token vocabulary on the same text.

    python bench/gpt_bpe_speed.py            # best of 5 runs
    python bench/gpt_bpe_speed.py --quick    # 1 run, training on the first quarter of the text

Exits with status 1 when the ids differ from tiktoken's.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from collections.abc import Callable

import tiktoken

from gpt_from_scratch.assets import TINY_SHAKESPEARE
from gpt_from_scratch.tokenizers import BPETokenizer
from gpt_from_scratch.tokenizers.gpt2 import gpt2_bpe, gpt2_encoding
from practicekit import resolve

TARGET_RATIO = 0.3  # the own encoder should reach at least this fraction of tiktoken's throughput
TRAIN_VOCAB_SIZE = 2048


def best_time(run: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Return the shortest wall time of ``repeats`` calls and the last call's result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def encode_cold(text: str) -> list[int]:
    return gpt2_bpe().encode(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run each, train on the first quarter of the text")
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement; the best is kept (default: 5)")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    logging.basicConfig(level=logging.WARNING)

    # Setup, not timed: find the corpus and load the ranks once for both encoders.
    text = resolve(TINY_SHAKESPEARE).read_text(encoding="utf-8")
    megabytes = len(text.encode("utf-8")) / 1e6
    encoding = gpt2_encoding()
    warm_encoder = gpt2_bpe()

    tiktoken_s, expected = best_time(lambda: encoding.encode_ordinary(text), repeats)
    cold_s, ids = best_time(lambda: encode_cold(text), repeats)
    warm_encoder.encode(text)
    warm_s, _ = best_time(lambda: warm_encoder.encode(text), repeats)
    identical = ids == expected

    train_text = text[: len(text) // 4] if args.quick else text
    train_s, trained = best_time(lambda: BPETokenizer.train(train_text, TRAIN_VOCAB_SIZE), repeats)

    print(f"BPE encode, Tiny Shakespeare ({megabytes:.2f} MB), best of {repeats} run(s)")
    print(f"python {platform.python_version()}, tiktoken {tiktoken.__version__}, {os.cpu_count()} CPUs, "
          f"{platform.machine()}")
    print()
    print(f"{'encoder':<34} {'time (s)':>9} {'MB/s':>7} {'tokens':>9} {'vs tiktoken':>12}")
    rows = [("tiktoken gpt2 (Rust)", tiktoken_s, len(expected)),
            ("BPETokenizer, GPT-2 ranks, cold", cold_s, len(ids)),
            ("BPETokenizer, GPT-2 ranks, warm", warm_s, len(ids))]
    for name, seconds, tokens in rows:
        print(f"{name:<34} {seconds:>9.3f} {megabytes / seconds:>7.2f} {tokens:>9,} {tiktoken_s / seconds:>11.2f}x")
    print()
    print(f"ids identical to tiktoken: {'yes' if identical else 'NO'} ({len(expected):,} tokens)")
    ratio = tiktoken_s / cold_s
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    print(f"cold-cache throughput ratio {ratio:.2f}x, target >= {TARGET_RATIO}x: {verdict}")
    print(f"BPE training to vocab {TRAIN_VOCAB_SIZE} on {len(train_text):,} characters: {train_s:.2f} s "
          f"({len(trained.merges):,} merges)")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
