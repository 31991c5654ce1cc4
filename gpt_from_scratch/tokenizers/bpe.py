"""Byte-level BPE tokenizer in pure Python, compatible with tiktoken's rank tables.

A token is a byte string, and its id is its rank: a lower rank means an earlier merge. Encoding works like
GPT-2 and tiktoken:

1. split special tokens out of the text (only those the caller allows);
2. pre-split the rest with GPT-2's regex into words (" the", "'s", " 123", "\\n\\n", ...);
3. turn each word into UTF-8 bytes and repeatedly merge the adjacent pair whose concatenation has the
   lowest rank, until no adjacent pair is a token.

Step 3 is the slow part, and it depends only on the word, so each word's ids are cached. Natural text
repeats a small set of words (Tiny Shakespeare: 297,833 words, 15,057 distinct), so nearly all lookups hit.

Training lives in :mod:`gpt_from_scratch.tokenizers.bpe_train`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Collection, Iterable, Sequence
from itertools import chain
from pathlib import Path
from typing import Literal

import regex

from gpt_from_scratch.tokenizers.base import TokenizerError

# GPT-2's pre-split pattern exactly as tiktoken 0.14 writes it for "gpt2" and "r50k_base": GPT-2's encoder.py
# pattern rewritten with possessive quantifiers for speed. Contractions, letters, digits and punctuation become
# separate words, and a single leading space stays attached to the word after it.
GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
ENDOFTEXT = "<|endoftext|>"

# The word cache is cleared when it grows past this many entries, so memory stays bounded on huge corpora.
_WORD_CACHE_LIMIT = 200_000
_NO_MERGE = sys.maxsize

AllowedSpecial = Collection[str] | Literal["all"]


class BPETokenizer:
    """Byte-level BPE: ``ranks`` maps each token's bytes to its id, which is also its merge priority."""

    name = "bpe"

    def __init__(self, ranks: dict[bytes, int], special_tokens: dict[str, int] | None = None, *,
                 pattern: str = GPT2_SPLIT_PATTERN, merges: Sequence[tuple[bytes, bytes]] | None = None) -> None:
        self.special_tokens = dict(special_tokens or {})
        self.pattern = pattern
        self._ranks = ranks
        self._merges = list(merges) if merges is not None else None
        self._decoder = self._build_decoder(ranks, self.special_tokens)
        self.vocab_size = max(self._decoder) + 1
        try:
            self._split_regex = regex.compile(pattern)
        except regex.error as error:
            raise TokenizerError(f"invalid pre-split pattern {pattern!r}: {error}") from None
        self._special_regexes: dict[frozenset[str], regex.Pattern] = {}
        self._word_cache: dict[str, tuple[int, ...]] = {}

    # ---------------------------------------------------------------- construction

    @classmethod
    def from_merges(cls, merges: Iterable[tuple[bytes, bytes]], special_tokens: Sequence[str] | dict[str, int] = (),
                    *, pattern: str = GPT2_SPLIT_PATTERN) -> BPETokenizer:
        """Build the tokenizer that a training run produced.

        Ids 0..255 are the single bytes, merge ``i`` creates id ``256 + i``, and special tokens given as a
        sequence take the ids after the last merge.
        """
        ranks = {bytes([byte]): byte for byte in range(256)}
        merge_list = []
        for left, right in merges:
            if left not in ranks or right not in ranks:
                raise TokenizerError(f"invalid BPE merge {token_to_text(left)!r} + {token_to_text(right)!r}: "
                                     f"a part is not an earlier token, so the tokenizer file is corrupt")
            merged = left + right
            if merged in ranks:
                raise TokenizerError(f"invalid BPE merge: token {token_to_text(merged)!r} is created twice, so "
                                     f"the tokenizer file is corrupt")
            ranks[merged] = len(ranks)
            merge_list.append((left, right))

        if not isinstance(special_tokens, dict):
            special_tokens = {token: len(ranks) + i for i, token in enumerate(special_tokens)}
        return cls(ranks, special_tokens, pattern=pattern, merges=merge_list)

    @classmethod
    def train(cls, text: str, vocab_size: int, special_tokens: Sequence[str] = (ENDOFTEXT,), *,
              pattern: str = GPT2_SPLIT_PATTERN) -> BPETokenizer:
        """Learn merges on ``text`` until the vocabulary (256 bytes + merges + special tokens) has ``vocab_size``
        entries, or until no pair of tokens occurs anywhere in the text, whichever comes first."""
        from gpt_from_scratch.tokenizers.bpe_train import learn_merges

        minimum = 256 + len(special_tokens)
        if vocab_size < minimum:
            raise TokenizerError(f"BPE vocab size {vocab_size} is too small: it needs at least 256 byte tokens + "
                                 f"{len(special_tokens)} special tokens = {minimum}. Pass a larger vocab size")
        merges = learn_merges(text, vocab_size - minimum, pattern=pattern, special_tokens=special_tokens)
        return cls.from_merges(merges, special_tokens, pattern=pattern)

    @classmethod
    def from_spec(cls, spec: dict) -> BPETokenizer:
        """Rebuild a tokenizer from :meth:`to_spec`'s dict (merges form or tokens form)."""
        try:
            pattern = spec.get("pattern", GPT2_SPLIT_PATTERN)
            special_tokens = {str(token): int(i) for token, i in spec.get("special_tokens", {}).items()}
            if "merges" in spec:
                merges = [(text_to_token(left), text_to_token(right)) for left, right in spec["merges"]]
                return cls.from_merges(merges, special_tokens, pattern=pattern)
            ranks = {text_to_token(token): i for i, token in enumerate(spec["tokens"])}
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise TokenizerError(f"invalid BPE tokenizer spec ({error!r}). Save it again with to_spec()") from None
        return cls(ranks, special_tokens, pattern=pattern)

    def to_spec(self) -> dict:
        """Return a self-contained JSON-serialisable description with tokens written as readable text.

        A trained tokenizer lists its merges in order. A tokenizer built from external ranks (such as
        GPT-2's) lists every token by id instead, which requires the ids to run from 0 without gaps.
        """
        spec: dict = {"kind": "bpe", "pattern": self.pattern}
        if self._merges is not None:
            spec["merges"] = [[token_to_text(left), token_to_text(right)] for left, right in self._merges]
        else:
            by_id = sorted(self._ranks.items(), key=lambda item: item[1])
            if [rank for _, rank in by_id] != list(range(len(by_id))):
                raise TokenizerError("cannot write this BPE tokenizer as a spec: its ranks do not run from 0 "
                                     "without gaps. Keep the original ranks file instead")
            spec["tokens"] = [token_to_text(token) for token, _ in by_id]
        spec["special_tokens"] = dict(self.special_tokens)
        return spec

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_spec` as JSON, one merge or token per line, atomically."""
        spec = self.to_spec()
        entries_key = "merges" if "merges" in spec else "tokens"
        lines = ["{"]
        for key, value in spec.items():
            if key != entries_key:
                lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
        entries = [f"    {json.dumps(entry, ensure_ascii=False)}," for entry in spec[entries_key]]
        if entries:
            entries[-1] = entries[-1].rstrip(",")
        lines += [f"  {json.dumps(entries_key)}: [", *entries, "  ]", "}"]
        _write_text_atomic(Path(path), "\n".join(lines) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> BPETokenizer:
        path = Path(path)
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TokenizerError(f"BPE tokenizer file not found: {path}. Check the path") from None
        except (OSError, ValueError) as error:
            raise TokenizerError(f"cannot read BPE tokenizer file {path}: {error}") from None
        return cls.from_spec(spec)

    # ---------------------------------------------------------------- encoding

    def encode(self, text: str, *, allowed_special: AllowedSpecial = ()) -> list[int]:
        """Encode ``text``. Special tokens named in ``allowed_special`` (or all, with ``"all"``) become their
        ids, and any other special-token text is encoded as ordinary text, as tiktoken's
        ``encode(..., disallowed_special=())`` does."""
        allowed = frozenset(self.special_tokens if allowed_special == "all" else allowed_special)
        unknown = allowed - self.special_tokens.keys()
        if unknown:
            raise TokenizerError(f"unknown special token {sorted(unknown)[0]!r}: this tokenizer has "
                                 f"{sorted(self.special_tokens)}")
        if not allowed:
            return self.encode_ordinary(text)

        ids: list[int] = []
        chunks = self._special_regex(allowed).split(text)
        for i, chunk in enumerate(chunks):
            if i % 2:  # the capturing split puts each special token at an odd index
                ids.append(self.special_tokens[chunk])
            elif chunk:
                ids.extend(self.encode_ordinary(chunk))
        return ids

    def encode_ordinary(self, text: str) -> list[int]:
        """Encode ``text`` with no special tokens: each pre-split word is merged once, then served from the cache."""
        words = self._split_regex.findall(text)
        cache = self._word_cache
        if len(cache) > _WORD_CACHE_LIMIT:
            cache.clear()
        for word in set(words).difference(cache):
            cache[word] = self._encode_word(word)
        return list(chain.from_iterable(map(cache.__getitem__, words)))

    def _encode_word(self, word: str) -> tuple[int, ...]:
        try:
            piece = word.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: replace them with U+FFFD as tiktoken does
            piece = word.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")
        ranks = self._ranks
        rank = ranks.get(piece)
        if rank is not None:
            return (rank,)
        return tuple(ranks[part] for part in merge_bytes(piece, ranks))

    def _special_regex(self, allowed: frozenset[str]) -> regex.Pattern:
        compiled = self._special_regexes.get(allowed)
        if compiled is None:
            # Longer tokens first, so that a special token wins over another one that is its prefix.
            alternatives = "|".join(regex.escape(token) for token in sorted(allowed, key=len, reverse=True))
            compiled = self._special_regexes[allowed] = regex.compile(f"({alternatives})")
        return compiled

    # ---------------------------------------------------------------- decoding

    def decode_bytes(self, ids: Sequence[int]) -> bytes:
        decoder = self._decoder
        try:
            return b"".join([decoder[i] for i in ids])
        except KeyError as error:
            raise TokenizerError(f"token id {error.args[0]} is not in this BPE vocabulary "
                                 f"(size {self.vocab_size})") from None

    def decode(self, ids: Sequence[int]) -> str:
        """Decode ``ids`` to text. Bytes that are not valid UTF-8 (a character cut between tokens) become U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def token_bytes(self, token_id: int) -> bytes:
        return self.decode_bytes([token_id])

    @property
    def merges(self) -> list[tuple[bytes, bytes]] | None:
        """The learned merges in order, or None for a tokenizer built from external ranks."""
        return None if self._merges is None else list(self._merges)

    @staticmethod
    def _build_decoder(ranks: dict[bytes, int], special_tokens: dict[str, int]) -> dict[int, bytes]:
        missing = [byte for byte in range(256) if bytes([byte]) not in ranks]
        if missing:
            raise TokenizerError(f"BPE ranks lack the single byte {missing[0]:#04x}, so some text could not be "
                                 f"encoded. Every byte must be a token")
        decoder = {rank: token for token, rank in ranks.items()}
        if len(decoder) != len(ranks):
            raise TokenizerError("BPE ranks give the same id to two tokens, but each token needs its own id")
        for token, token_id in special_tokens.items():
            if token_id in decoder:
                raise TokenizerError(f"special token {token!r} has id {token_id}, which a BPE token already has")
            decoder[token_id] = token.encode("utf-8")
        return decoder

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size}, special_tokens={sorted(self.special_tokens)})"


def merge_bytes(piece: bytes, ranks: dict[bytes, int]) -> list[bytes]:
    """Split ``piece`` into tokens: start from single bytes and merge the lowest-ranked adjacent pair until no
    adjacent pair is a token. Ties go to the leftmost pair, as in tiktoken."""
    parts = [piece[i:i + 1] for i in range(len(piece))]
    # pair_ranks[i] is the rank of parts[i] + parts[i + 1], or _NO_MERGE when that is not a token.
    pair_ranks = [ranks.get(parts[i] + parts[i + 1], _NO_MERGE) for i in range(len(parts) - 1)]
    while pair_ranks:
        best = min(pair_ranks)
        if best == _NO_MERGE:
            break
        i = pair_ranks.index(best)
        parts[i] += parts[i + 1]
        del parts[i + 1]
        del pair_ranks[i]
        # Only the pairs on both sides of the merged part changed.
        if i > 0:
            pair_ranks[i - 1] = ranks.get(parts[i - 1] + parts[i], _NO_MERGE)
        if i < len(pair_ranks):
            pair_ranks[i] = ranks.get(parts[i] + parts[i + 1], _NO_MERGE)
    return parts


# ---------------------------------------------------------------- readable token text


def token_to_text(token: bytes) -> str:
    """Write token bytes as readable text: valid UTF-8 as itself, any other byte as ``\\xNN``, and ``\\`` as
    ``\\\\``. :func:`text_to_token` reverses it exactly."""
    pieces = []
    for char in token.decode("utf-8", errors="surrogateescape"):
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape maps an undecodable byte B to U+DC00 + B
            pieces.append(f"\\x{code - 0xDC00:02x}")
        elif char == "\\":
            pieces.append("\\\\")
        else:
            pieces.append(char)
    return "".join(pieces)


def text_to_token(text: str) -> bytes:
    """Parse :func:`token_to_text`'s notation back into bytes, raising ValueError on an invalid escape."""
    if "\\" not in text:
        return text.encode("utf-8")
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            out += char.encode("utf-8")
            i += 1
        elif text.startswith("\\\\", i):
            out += b"\\"
            i += 2
        elif text.startswith("\\x", i) and len(text) >= i + 4:
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError(f"invalid escape in token text {text!r} at position {i}")
    return bytes(out)


def _write_text_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
