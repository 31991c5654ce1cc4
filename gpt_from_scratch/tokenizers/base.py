"""The interface that every tokenizer implements, and the error it raises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from gpt_from_scratch.errors import GPTError


class TokenizerError(GPTError):
    """Invalid tokenizer input or settings: an unknown character, a bad id, a vocabulary size too small."""


@runtime_checkable
class Tokenizer(Protocol):
    """Text <-> token ids. ``to_spec()`` returns a JSON-serialisable dict that rebuilds the tokenizer alone."""

    name: str
    vocab_size: int

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def to_spec(self) -> dict: ...
