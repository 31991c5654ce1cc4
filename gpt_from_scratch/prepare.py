"""The prepare subcommand: tokenize a text corpus into train.bin, val.bin and meta.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from gpt_from_scratch.assets import DATASETS
from gpt_from_scratch.data import DEFAULT_BPE_VOCAB_SIZE, prepare
from gpt_from_scratch.tokenizers import TOKENIZER_KINDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, metavar="PATH",
                        help="UTF-8 text file to tokenize, in any language")
    source.add_argument("--dataset", choices=sorted(DATASETS),
                        help="known corpus, found in $AI_PRACTICE_DATA or the cache, or downloaded")
    parser.add_argument("--tokenizer", choices=TOKENIZER_KINDS, default="char",
                        help="char: one token per character. bpe: byte-level BPE trained on the train split. "
                             "gpt2: GPT-2's BPE through tiktoken (default: char)")
    parser.add_argument("--vocab-size", type=int, metavar="N",
                        help=f"BPE vocabulary size, counting the 256 byte tokens and <|endoftext|> "
                             f"(default: {DEFAULT_BPE_VOCAB_SIZE}), only with --tokenizer bpe")
    parser.add_argument("--val-fraction", type=float, default=0.1, metavar="F",
                        help="fraction of the text, taken from its end, used as the validation split (default: 0.1)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="output folder for train.bin, val.bin, meta.json (and tokenizer.json for bpe)")


def run(args: argparse.Namespace) -> int:
    meta = prepare(args.out, input_path=args.input, dataset=args.dataset, tokenizer=args.tokenizer,
                   vocab_size=args.vocab_size, val_fraction=args.val_fraction)
    print(f"{args.out}: {meta['train_tokens']:,} train tokens, {meta['val_tokens']:,} val tokens, "
          f"{meta['tokenizer']['kind']} tokenizer with vocab size {meta['vocab_size']:,} ({meta['dtype']})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``prepare`` on its own (``python -m gpt_from_scratch.prepare``), with the same options as the package CLI."""
    from gpt_from_scratch.errors import GPTError
    from practicekit import AssetError, setup_logging

    parser = argparse.ArgumentParser(prog="python -m gpt_from_scratch.prepare", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging()
    try:
        return run(args)
    except (GPTError, AssetError) as error:
        parser.exit(2, f"error: {error}\n")


if __name__ == "__main__":
    raise SystemExit(main())
