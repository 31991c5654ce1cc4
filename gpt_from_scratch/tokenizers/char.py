"""Character-level tokenizer: one token per Unicode character seen in the training corpus."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gpt_from_scratch.tokenizers.base import TokenizerError


class CharTokenizer:
    """Maps each character of a fixed vocabulary to its index in sorted order."""

    name = "char"

    def __init__(self, chars: Iterable[str]) -> None:
        vocab = sorted(set(chars))
        if not vocab:
            raise TokenizerError("the char vocabulary is empty. Build it from a non-empty text")
        bad = [c for c in vocab if len(c) != 1]
        if bad:
            raise TokenizerError(f"char vocabulary entries must be single characters, got {bad[0]!r}")
        self.itos: list[str] = vocab
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(vocab)}
        self.vocab_size = len(vocab)

    @classmethod
    def train(cls, text: str) -> CharTokenizer:
        """Build the vocabulary from every distinct character of ``text``."""
        return cls(set(text))

    @classmethod
    def from_spec(cls, spec: dict) -> CharTokenizer:
        vocab = spec.get("vocab") if isinstance(spec, dict) else None
        if not isinstance(vocab, list):
            raise TokenizerError("invalid char tokenizer spec: it needs a 'vocab' list of characters")
        return cls(vocab)

    def to_spec(self) -> dict:
        return {"kind": "char", "vocab": list(self.itos)}

    def encode(self, text: str) -> list[int]:
        """Encode one id per character, raising TokenizerError that names the first character outside the vocabulary."""
        stoi = self.stoi
        try:
            return [stoi[c] for c in text]
        except KeyError as error:
            raise TokenizerError(self._unknown_char_message(error.args[0])) from None

    def decode(self, ids: Sequence[int]) -> str:
        itos, size = self.itos, self.vocab_size
        chars = []
        for i in ids:
            if not 0 <= i < size:
                raise TokenizerError(f"token id {i} is outside the char vocabulary (0..{size - 1})")
            chars.append(itos[i])
        return "".join(chars)

    def _unknown_char_message(self, char: str) -> str:
        return (f"character {char!r} (U+{ord(char):04X}) is not in the char vocabulary of {self.vocab_size} "
                f"characters: the tokenizer was built from a different corpus. Remove the character from the "
                f"text, or prepare the data again from a corpus that contains it and train a new model on it")

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"
