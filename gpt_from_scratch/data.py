"""Data preparation: tokenize a text corpus into train.bin/val.bin token files plus meta.json.

A prepared data folder contains:

- ``train.bin`` and ``val.bin``: the token ids as a flat array of ``meta["dtype"]`` (native byte order),
  which training reads back through ``np.memmap`` without loading the file into memory;
- ``meta.json``: the tokenizer spec (enough to rebuild it), vocabulary size, dtype, token counts, the source
  and its sha256, and the settings that produced the files;
- ``tokenizer.json`` (BPE only): the same tokenizer as a readable file, one merge per line.

The last ``val_fraction`` of the text (by characters) is the validation split, as in nanoGPT.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Literal

import numpy as np

from gpt_from_scratch.assets import DATASETS
from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.tokenizers import (
    ENDOFTEXT,
    TOKENIZER_KINDS,
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    tokenizer_from_spec,
)
from practicekit import resolve

logger = logging.getLogger(__name__)

META_FILE = "meta.json"
TOKENIZER_FILE = "tokenizer.json"
SPLIT_FILES = {"train": "train.bin", "val": "val.bin"}
FORMAT_VERSION = 1
DEFAULT_BPE_VOCAB_SIZE = 2048
BPE_SPECIAL_TOKENS = (ENDOFTEXT,)
BPE_MIN_VOCAB_SIZE = 256 + len(BPE_SPECIAL_TOKENS)
REQUIRED_META_KEYS = ("tokenizer", "vocab_size", "dtype", "train_tokens", "val_tokens", "source")


class DataError(GPTError):
    """Invalid corpus or data folder: missing, not UTF-8, empty, or prepared with other settings."""


def token_dtype(vocab_size: int) -> str:
    """Return the smallest unsigned dtype that fits every id below ``vocab_size``."""
    return "uint16" if vocab_size <= 2**16 else "uint32"


def prepare(out_dir: str | os.PathLike, *, input_path: str | os.PathLike | None = None, dataset: str | None = None,
            tokenizer: str = "char", vocab_size: int | None = None, val_fraction: float = 0.1) -> dict:
    """Tokenize a corpus into ``out_dir`` and return its meta.

    Give either ``input_path`` (any UTF-8 text file) or ``dataset`` (a name in ``assets.DATASETS``). When
    ``out_dir`` already contains files made from the same source bytes with the same settings, nothing is
    rebuilt. Otherwise, the files are rewritten: meta.json is removed first and written last, so that an
    interrupted run leaves no meta.json that describes other token files.
    """
    settings_without_source = _check_settings(input_path, dataset, tokenizer, vocab_size, val_fraction)
    source_path = _find_source(input_path, dataset)
    try:
        raw = source_path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read {source_path}: {error.strerror}. Check the file's permissions") from None
    settings = {**settings_without_source, "source_sha256": hashlib.sha256(raw).hexdigest()}

    out_dir = Path(out_dir)
    existing = _up_to_date_meta(out_dir, settings)
    if existing is not None:
        logger.info("%s is up to date with %s, nothing to do", out_dir, source_path)
        return existing

    text = _decode_text(raw, source_path)
    split_at = int(len(text) * (1 - val_fraction))
    train_text, val_text = text[:split_at], text[split_at:]
    if not train_text or not val_text:
        raise DataError(f"{source_path} has only {len(text)} characters, too few for a train/val split with "
                        f"val fraction {val_fraction}. Use a longer text")

    started = time.perf_counter()
    tok = _build_tokenizer(tokenizer, text, train_text, settings["vocab_size"])
    dtype = token_dtype(tok.vocab_size)
    train_ids = np.asarray(_encode(tok, train_text), dtype=dtype)
    val_ids = np.asarray(_encode(tok, val_text), dtype=dtype)
    logger.info("tokenized %d characters into %d tokens with the %s tokenizer (vocab size %d) in %.1f s",
                len(text), len(train_ids) + len(val_ids), tok.name, tok.vocab_size, time.perf_counter() - started)

    meta = {
        "format_version": FORMAT_VERSION,
        "tokenizer": tok.to_spec(),
        "vocab_size": tok.vocab_size,
        "dtype": dtype,
        "train_tokens": int(len(train_ids)),
        "val_tokens": int(len(val_ids)),
        "source": dataset or str(source_path),
        "source_path": str(source_path),
        "source_sha256": settings["source_sha256"],
        "source_chars": len(text),
        "train_chars": len(train_text),
        "val_chars": len(val_text),
        "settings": settings,
    }
    _write_outputs(out_dir, meta, train_ids, val_ids, tok)
    logger.info("wrote %s: %d train and %d val tokens (%s)", out_dir, len(train_ids), len(val_ids), dtype)
    return meta


def read_meta(data_dir: str | os.PathLike) -> dict:
    """Read ``meta.json`` of a prepared data folder, raising DataError when it is missing or invalid."""
    path = Path(data_dir) / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path} not found: {data_dir} is not a prepared data folder. Create it with "
                        f"`python -m gpt_from_scratch prepare --out {data_dir} ...`") from None
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read {path}: {error}. Run prepare again") from None

    missing = [key for key in REQUIRED_META_KEYS if not isinstance(meta, dict) or key not in meta]
    if missing:
        raise DataError(f"{path} is missing {', '.join(missing)}. Run prepare again")
    if meta.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise DataError(f"{path} has format version {meta['format_version']}, newer than this code supports "
                        f"({FORMAT_VERSION}). Update the code or run prepare again")
    return meta


def load_tokens(data_dir: str | os.PathLike, split: Literal["train", "val"]) -> np.memmap:
    """Map a split's token ids read-only from disk as a 1-D array of the meta's dtype."""
    if split not in SPLIT_FILES:
        raise DataError(f"unknown split {split!r}: expected 'train' or 'val'")
    meta = read_meta(data_dir)
    path = Path(data_dir) / SPLIT_FILES[split]
    if not path.is_file():
        raise DataError(f"{path} not found. Run prepare again for {data_dir}")

    dtype = np.dtype(meta["dtype"])
    expected_bytes = meta[f"{split}_tokens"] * dtype.itemsize
    actual_bytes = path.stat().st_size
    if actual_bytes != expected_bytes:
        raise DataError(f"{path} has {actual_bytes} bytes but meta.json expects {expected_bytes} "
                        f"({meta[f'{split}_tokens']} {dtype.name} tokens). Run prepare again")
    return np.memmap(path, dtype=dtype, mode="r")


def load_tokenizer(data_dir: str | os.PathLike) -> Tokenizer:
    """Rebuild the tokenizer that prepared ``data_dir``."""
    return tokenizer_from_spec(read_meta(data_dir)["tokenizer"])


# ---------------------------------------------------------------- steps of prepare


def _check_settings(input_path, dataset, tokenizer, vocab_size, val_fraction) -> dict:
    if (input_path is None) == (dataset is None):
        raise DataError("give exactly one source: an input file (--input PATH) or a dataset (--dataset NAME)")
    if dataset is not None and dataset not in DATASETS:
        raise DataError(f"unknown dataset {dataset!r}: available datasets are {', '.join(sorted(DATASETS))}")
    if tokenizer not in TOKENIZER_KINDS:
        raise DataError(f"unknown tokenizer {tokenizer!r}: expected one of {', '.join(TOKENIZER_KINDS)}")
    if vocab_size is not None and tokenizer != "bpe":
        raise DataError(f"a vocab size ({vocab_size}) applies only to the bpe tokenizer. Drop it for {tokenizer}")
    if tokenizer == "bpe" and vocab_size is not None and vocab_size < BPE_MIN_VOCAB_SIZE:
        raise DataError(f"BPE vocab size {vocab_size} is too small: it needs at least 256 byte tokens + "
                        f"{len(BPE_SPECIAL_TOKENS)} special token = {BPE_MIN_VOCAB_SIZE}. Pass a larger --vocab-size")
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"val fraction {val_fraction} is out of range. Use a value between 0 and 1, such as 0.1")

    if tokenizer == "bpe" and vocab_size is None:
        vocab_size = DEFAULT_BPE_VOCAB_SIZE
    return {"format_version": FORMAT_VERSION, "tokenizer": tokenizer, "vocab_size": vocab_size,
            "val_fraction": val_fraction}


def _find_source(input_path, dataset) -> Path:
    if dataset is not None:
        return resolve(DATASETS[dataset])
    path = Path(input_path).expanduser()
    if not path.exists():
        raise DataError(f"input file not found: {path}. Pass an existing UTF-8 text file with --input, "
                        f"or use --dataset shakespeare")
    if not path.is_file():
        raise DataError(f"input {path} is not a file. Pass a UTF-8 text file with --input")
    return path


def _decode_text(raw: bytes, path: Path) -> str:
    try:
        # utf-8-sig drops a leading byte order mark, which some editors write, instead of making it a token.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not valid UTF-8 (byte {raw[error.start]:#04x} at offset {error.start}). "
                        f"Convert it first, for example `iconv -f GBK -t UTF-8 in.txt > out.txt`") from None
    if not text.strip():
        raise DataError(f"{path} is empty or contains only whitespace. Pass a file with text in it")
    return text


def _build_tokenizer(kind: str, text: str, train_text: str, vocab_size: int | None) -> Tokenizer:
    if kind == "char":
        # NOTE: the vocabulary comes from the whole text, so that a character that appears only in the validation
        # split is still encodable. That leaks which characters occur in val, but not their order.
        return CharTokenizer.train(text)
    if kind == "bpe":
        return BPETokenizer.train(train_text, vocab_size, BPE_SPECIAL_TOKENS)
    from gpt_from_scratch.tokenizers.gpt2 import GPT2Tokenizer

    return GPT2Tokenizer()


def _encode(tok: Tokenizer, text: str) -> list[int]:
    # NOTE: the whole text and its ids are held in memory as Python objects (an estimated 10 to 40 bytes per
    # token), so corpora beyond a few hundred MB would need chunked encoding.
    # A corpus that separates documents with "<|endoftext|>" gets the special token id there.
    if isinstance(tok, CharTokenizer):
        return tok.encode(text)
    return tok.encode(text, allowed_special="all")


def _up_to_date_meta(out_dir: Path, settings: dict) -> dict | None:
    """Return the existing meta when ``out_dir`` contains complete files made with ``settings``, else None."""
    if not (out_dir / META_FILE).is_file():
        return None
    try:
        meta = read_meta(out_dir)
        if meta.get("settings") != settings:
            logger.info("rebuilding %s: the source or the settings changed", out_dir)
            return None
        for split in SPLIT_FILES:
            load_tokens(out_dir, split)
    except DataError as error:
        logger.info("rebuilding %s: %s", out_dir, error)
        return None
    return meta


def _write_outputs(out_dir: Path, meta: dict, train_ids: np.ndarray, val_ids: np.ndarray, tok: Tokenizer) -> None:
    try:
        _write_files(out_dir, meta, train_ids, val_ids, tok)
    except OSError as error:
        raise DataError(f"cannot write to {out_dir}: {error}. Choose another --out folder") from None


def _write_files(out_dir: Path, meta: dict, train_ids: np.ndarray, val_ids: np.ndarray, tok: Tokenizer) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / META_FILE).unlink(missing_ok=True)
    (out_dir / TOKENIZER_FILE).unlink(missing_ok=True)

    _write_atomic(out_dir / SPLIT_FILES["train"], train_ids.tofile)
    _write_atomic(out_dir / SPLIT_FILES["val"], val_ids.tofile)
    if isinstance(tok, BPETokenizer):
        tok.save(out_dir / TOKENIZER_FILE)
    # One top-level key per line: readable, while a BPE spec's merges stay on a single line.
    meta_lines = [f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}" for key, value in meta.items()]
    meta_text = "{\n" + ",\n".join(meta_lines) + "\n}\n"
    _write_atomic(out_dir / META_FILE, lambda path: Path(path).write_text(meta_text, encoding="utf-8"))


def _write_atomic(path: Path, write) -> None:
    """Call ``write(temporary_path)``, then rename the result over ``path``."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(str(temporary))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
