"""GPT-2's tokenizer: tiktoken's encoder, built offline from a local copy of GPT-2's ranks.

``tiktoken.get_encoding("gpt2")`` downloads its files from the internet on first use. Here the ranks file
comes through the asset resolver instead (``$AI_PRACTICE_DATA``, the cache, or ``pip download`` of the
openai-whisper source distribution), and the same ranks can load this package's own
:class:`~gpt_from_scratch.tokenizers.bpe.BPETokenizer`, which then returns tiktoken's ids.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from gpt_from_scratch.assets import GPT2_RANKS
from gpt_from_scratch.tokenizers.base import TokenizerError
from gpt_from_scratch.tokenizers.bpe import ENDOFTEXT, GPT2_SPLIT_PATTERN, AllowedSpecial, BPETokenizer
from practicekit import resolve

GPT2_VOCAB_SIZE = 50257
GPT2_SPECIAL_TOKENS = {ENDOFTEXT: 50256}


@functools.lru_cache(maxsize=1)
def load_gpt2_ranks() -> dict[bytes, int]:
    """Return GPT-2's 50,256 BPE tokens as {token bytes: rank}, read once per process."""
    from tiktoken.load import load_tiktoken_bpe

    path = resolve(GPT2_RANKS)
    # NOTE: tiktoken 0.14 also copies the file into its own cache, $TIKTOKEN_CACHE_DIR (default
    # <tempdir>/data-gym-cache), unless that variable is set to an empty string.
    return load_tiktoken_bpe(str(path), expected_hash=GPT2_RANKS.sha256)


@functools.lru_cache(maxsize=1)
def gpt2_encoding():
    """Build tiktoken's GPT-2 ``Encoding`` once, like ``tiktoken.get_encoding("gpt2")`` but from local ranks."""
    import tiktoken

    return tiktoken.Encoding(name="gpt2", pat_str=GPT2_SPLIT_PATTERN, mergeable_ranks=load_gpt2_ranks(),
                             special_tokens=GPT2_SPECIAL_TOKENS, explicit_n_vocab=GPT2_VOCAB_SIZE)


def gpt2_bpe() -> BPETokenizer:
    """Return a fresh :class:`BPETokenizer` (empty word cache) loaded with GPT-2's ranks."""
    return BPETokenizer(load_gpt2_ranks(), GPT2_SPECIAL_TOKENS, pattern=GPT2_SPLIT_PATTERN)


class GPT2Tokenizer:
    """GPT-2's tokenizer through tiktoken (Rust), the fast reference for ``BPETokenizer``."""

    name = "gpt2"
    vocab_size = GPT2_VOCAB_SIZE

    def __init__(self) -> None:
        self._encoding = gpt2_encoding()

    def encode(self, text: str, *, allowed_special: AllowedSpecial = ()) -> list[int]:
        """Encode ``text``. Special-token text outside ``allowed_special`` is encoded as ordinary text."""
        allowed = set(GPT2_SPECIAL_TOKENS) if allowed_special == "all" else set(allowed_special)
        unknown = allowed - GPT2_SPECIAL_TOKENS.keys()
        if unknown:
            raise TokenizerError(f"unknown special token {sorted(unknown)[0]!r}: GPT-2 has only {ENDOFTEXT!r}")
        return self._encoding.encode(text, allowed_special=allowed, disallowed_special=())

    def decode(self, ids: Sequence[int]) -> str:
        bad = [i for i in ids if not 0 <= i < GPT2_VOCAB_SIZE]
        if bad:
            raise TokenizerError(f"token id {bad[0]} is outside GPT-2's vocabulary (0..{GPT2_VOCAB_SIZE - 1})")
        return self._encoding.decode([int(i) for i in ids], errors="replace")

    def to_spec(self) -> dict:
        return {"kind": "gpt2"}

    def __repr__(self) -> str:
        return "GPT2Tokenizer(vocab_size=50257)"
