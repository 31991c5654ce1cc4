"""Tokenizers: character level, byte-level BPE trained from scratch, and GPT-2's through tiktoken.

Every tokenizer follows the :class:`Tokenizer` protocol, and ``tokenizer_from_spec(tok.to_spec())`` rebuilds
it without any other file (except GPT-2's ranks, which the asset resolver finds).
"""

from __future__ import annotations

from gpt_from_scratch.tokenizers.base import Tokenizer, TokenizerError
from gpt_from_scratch.tokenizers.bpe import ENDOFTEXT, GPT2_SPLIT_PATTERN, BPETokenizer
from gpt_from_scratch.tokenizers.char import CharTokenizer

TOKENIZER_KINDS = ("char", "bpe", "gpt2")


def tokenizer_from_spec(spec: dict) -> Tokenizer:
    """Rebuild a tokenizer from the dict that its ``to_spec()`` returned (for example ``meta["tokenizer"]``)."""
    kind = spec.get("kind") if isinstance(spec, dict) else None
    if kind == "char":
        return CharTokenizer.from_spec(spec)
    if kind == "bpe":
        return BPETokenizer.from_spec(spec)
    if kind == "gpt2":
        from gpt_from_scratch.tokenizers.gpt2 import GPT2Tokenizer

        return GPT2Tokenizer()
    raise TokenizerError(f"unknown tokenizer kind {kind!r} in spec: expected one of {', '.join(TOKENIZER_KINDS)}")


__all__ = [
    "BPETokenizer", "CharTokenizer", "ENDOFTEXT", "GPT2_SPLIT_PATTERN", "TOKENIZER_KINDS", "Tokenizer",
    "TokenizerError", "tokenizer_from_spec",
]
