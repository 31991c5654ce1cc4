"""Data preparation: token files, meta, splits, dtype, re-runs, errors, and the prepare subcommand."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gpt_from_scratch import prepare as prepare_command
from gpt_from_scratch.data import (
    DataError,
    load_tokenizer,
    load_tokens,
    prepare,
    read_meta,
    token_dtype,
)
from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.tokenizers import ENDOFTEXT, BPETokenizer, TokenizerError

CHINESE_PATH = Path(__file__).parent / "fixtures" / "chinese_sample.txt"
CHINESE = CHINESE_PATH.read_text(encoding="utf-8")


@pytest.fixture
def chinese_file(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    shutil.copy(CHINESE_PATH, path)
    return path


def _decode_split(data_dir: Path, split: str) -> str:
    return load_tokenizer(data_dir).decode(load_tokens(data_dir, split).tolist())


# ---------------------------------------------------------------- char on a Chinese file


def test_prepare_chinese_char_meta(chinese_file, tmp_path):
    meta = prepare(tmp_path / "out", input_path=chinese_file)
    assert meta["tokenizer"]["kind"] == "char"
    assert meta["vocab_size"] == len(set(CHINESE))
    assert meta["dtype"] == "uint16"
    assert meta["source"] == str(chinese_file)
    assert meta["source_chars"] == len(CHINESE)
    assert read_meta(tmp_path / "out") == meta


def test_prepare_chinese_char_split(chinese_file, tmp_path):
    meta = prepare(tmp_path / "out", input_path=chinese_file)
    expected_train = int(len(CHINESE) * 0.9)
    assert meta["train_tokens"] == expected_train
    assert meta["val_tokens"] == len(CHINESE) - expected_train


def test_prepare_chinese_char_decodes(chinese_file, tmp_path):
    out = tmp_path / "out"
    prepare(out, input_path=chinese_file)
    train = load_tokens(out, "train")
    assert isinstance(train, np.memmap)
    assert train.ndim == 1
    assert _decode_split(out, "train") + _decode_split(out, "val") == CHINESE


def test_prepare_val_fraction(chinese_file, tmp_path):
    meta = prepare(tmp_path / "out", input_path=chinese_file, val_fraction=0.25)
    assert meta["val_tokens"] == len(CHINESE) - int(len(CHINESE) * 0.75)


def test_prepare_strips_byte_order_mark(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "你好，世界。你好！".encode())
    meta = prepare(tmp_path / "out", input_path=path)
    assert "\ufeff" not in meta["tokenizer"]["vocab"]


# ---------------------------------------------------------------- bpe and gpt2


def test_prepare_bpe_files(chinese_file, tmp_path):
    out = tmp_path / "out"
    meta = prepare(out, input_path=chinese_file, tokenizer="bpe", vocab_size=300)
    saved = BPETokenizer.load(out / "tokenizer.json")
    assert meta["vocab_size"] == 300
    assert meta["tokenizer"] == saved.to_spec()
    assert _decode_split(out, "train") + _decode_split(out, "val") == CHINESE


def test_prepare_bpe_trains_on_train_split(chinese_file, tmp_path):
    meta = prepare(tmp_path / "out", input_path=chinese_file, tokenizer="bpe", vocab_size=300)
    expected = BPETokenizer.train(CHINESE[:meta["train_chars"]], 300)
    assert meta["tokenizer"] == expected.to_spec()


def test_prepare_bpe_default_vocab(chinese_file, tmp_path):
    meta = prepare(tmp_path / "out", input_path=chinese_file, tokenizer="bpe")
    assert meta["settings"]["vocab_size"] == 2048
    assert meta["vocab_size"] < 2048  # a 1.5 KB text runs out of pairs first


def test_prepare_bpe_endoftext_special(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_text(f"第一篇文档。{ENDOFTEXT}第二篇文档。" * 20, encoding="utf-8")
    out = tmp_path / "out"
    meta = prepare(out, input_path=path, tokenizer="bpe", vocab_size=300)
    eot = meta["tokenizer"]["special_tokens"][ENDOFTEXT]
    assert eot in load_tokens(out, "train").tolist()


def test_prepare_gpt2_chinese(chinese_file, tmp_path):
    out = tmp_path / "out"
    meta = prepare(out, input_path=chinese_file, tokenizer="gpt2")
    assert meta["tokenizer"] == {"kind": "gpt2"}
    assert meta["vocab_size"] == 50257
    assert meta["dtype"] == "uint16"
    assert _decode_split(out, "train") + _decode_split(out, "val") == CHINESE


# ---------------------------------------------------------------- Tiny Shakespeare


@pytest.mark.usefixtures("shakespeare_path")
def test_prepare_shakespeare_char(tmp_path):
    out = tmp_path / "out"
    meta = prepare(out, dataset="shakespeare")
    assert meta["source"] == "shakespeare"
    assert meta["vocab_size"] == 65
    assert meta["train_tokens"] == 1_003_854
    assert meta["val_tokens"] == 111_540
    assert load_tokens(out, "val").dtype == np.uint16


@pytest.mark.usefixtures("shakespeare_path")
def test_prepare_shakespeare_gpt2(tmp_path):
    meta = prepare(tmp_path / "out", dataset="shakespeare", tokenizer="gpt2")
    assert meta["train_tokens"] == 301_966
    assert meta["val_tokens"] == 36_059


# ---------------------------------------------------------------- dtype


def test_dtype_boundary():
    assert token_dtype(65) == "uint16"
    assert token_dtype(65536) == "uint16"
    assert token_dtype(65537) == "uint32"


def test_prepare_large_vocab_uint32(tmp_path):
    # CJK Unified Ideographs, Hangul syllables and CJK Extension B, in code point order: 74,884 distinct characters.
    ranges = [(0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0x20000, 0x2A6DF)]
    text = "".join(chr(code) for low, high in ranges for code in range(low, high + 1))
    path = tmp_path / "many_chars.txt"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    meta = prepare(out, input_path=path)
    assert meta["vocab_size"] == len(text)
    assert meta["dtype"] == "uint32"
    assert int(load_tokens(out, "val")[-1]) == len(text) - 1  # above 65535, so uint16 would wrap


# ---------------------------------------------------------------- re-runs


def test_rerun_same_inputs_skips(chinese_file, tmp_path):
    out = tmp_path / "out"
    first = prepare(out, input_path=chinese_file)
    before = {name: (out / name).stat().st_mtime_ns for name in ("train.bin", "val.bin", "meta.json")}
    second = prepare(out, input_path=chinese_file)
    after = {name: (out / name).stat().st_mtime_ns for name in ("train.bin", "val.bin", "meta.json")}
    assert second == first
    assert after == before


def test_rerun_same_bytes_other_path_skips(chinese_file, tmp_path):
    out = tmp_path / "out"
    prepare(out, input_path=chinese_file)
    before = (out / "train.bin").stat().st_mtime_ns
    copy = tmp_path / "copy.txt"
    shutil.copy(chinese_file, copy)
    prepare(out, input_path=copy)
    assert (out / "train.bin").stat().st_mtime_ns == before


def test_rerun_changed_text_rebuilds(chinese_file, tmp_path):
    out = tmp_path / "out"
    prepare(out, input_path=chinese_file)
    chinese_file.write_text(CHINESE + "新的一行。\n", encoding="utf-8")
    meta = prepare(out, input_path=chinese_file)
    assert meta["source_chars"] == len(CHINESE) + 6
    assert _decode_split(out, "train") + _decode_split(out, "val") == CHINESE + "新的一行。\n"


def test_rerun_changed_tokenizer_rebuilds(chinese_file, tmp_path):
    out = tmp_path / "out"
    prepare(out, input_path=chinese_file, tokenizer="bpe", vocab_size=300)
    meta = prepare(out, input_path=chinese_file, tokenizer="char")
    assert meta["tokenizer"]["kind"] == "char"
    assert not (out / "tokenizer.json").exists()


def test_rerun_changed_vocab_rebuilds(chinese_file, tmp_path):
    out = tmp_path / "out"
    prepare(out, input_path=chinese_file, tokenizer="bpe", vocab_size=300)
    meta = prepare(out, input_path=chinese_file, tokenizer="bpe", vocab_size=320)
    assert meta["vocab_size"] == 320


def test_rerun_truncated_file_rebuilds(chinese_file, tmp_path):
    out = tmp_path / "out"
    meta = prepare(out, input_path=chinese_file)
    (out / "train.bin").write_bytes(b"\x00\x00")
    prepare(out, input_path=chinese_file)
    assert len(load_tokens(out, "train")) == meta["train_tokens"]


def test_rerun_missing_meta_rebuilds(chinese_file, tmp_path):
    out = tmp_path / "out"
    prepare(out, input_path=chinese_file)
    (out / "meta.json").unlink()
    prepare(out, input_path=chinese_file)
    assert read_meta(out)["source_chars"] == len(CHINESE)


# ---------------------------------------------------------------- errors


def test_error_missing_input(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(DataError, match=f"input file not found: {missing}.*--input") as info:
        prepare(tmp_path / "out", input_path=missing)
    assert "--dataset shakespeare" in str(info.value)


def test_error_input_is_folder(tmp_path):
    with pytest.raises(DataError, match="is not a file"):
        prepare(tmp_path / "out", input_path=tmp_path)


def test_error_not_utf8(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("中文文本".encode("gbk"))
    with pytest.raises(DataError, match=r"gbk.txt is not valid UTF-8 \(byte 0xd6 at offset 0\).*iconv"):
        prepare(tmp_path / "out", input_path=path)


def test_error_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="empty.txt is empty"):
        prepare(tmp_path / "out", input_path=path)


def test_error_whitespace_file(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text(" \n\n\t\n", encoding="utf-8")
    with pytest.raises(DataError, match="only whitespace"):
        prepare(tmp_path / "out", input_path=path)


def test_error_text_too_short(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("a", encoding="utf-8")
    with pytest.raises(DataError, match="only 1 characters"):
        prepare(tmp_path / "out", input_path=path)


def test_error_bpe_vocab_too_small(chinese_file, tmp_path):
    with pytest.raises(DataError, match="BPE vocab size 200 is too small.*at least 256 byte tokens.*257"):
        prepare(tmp_path / "out", input_path=chinese_file, tokenizer="bpe", vocab_size=200)


def test_error_vocab_size_for_char(chinese_file, tmp_path):
    with pytest.raises(DataError, match="applies only to the bpe tokenizer"):
        prepare(tmp_path / "out", input_path=chinese_file, vocab_size=500)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_error_val_fraction(chinese_file, tmp_path, fraction):
    with pytest.raises(DataError, match=f"val fraction {fraction} is out of range"):
        prepare(tmp_path / "out", input_path=chinese_file, val_fraction=fraction)


def test_error_two_sources(chinese_file, tmp_path):
    with pytest.raises(DataError, match="exactly one source"):
        prepare(tmp_path / "out", input_path=chinese_file, dataset="shakespeare")


def test_error_no_source(tmp_path):
    with pytest.raises(DataError, match="exactly one source"):
        prepare(tmp_path / "out")


def test_error_unknown_dataset(tmp_path):
    with pytest.raises(DataError, match="unknown dataset 'wikitext': available datasets are shakespeare"):
        prepare(tmp_path / "out", dataset="wikitext")


def test_error_unknown_tokenizer(chinese_file, tmp_path):
    with pytest.raises(DataError, match="unknown tokenizer 'word'"):
        prepare(tmp_path / "out", input_path=chinese_file, tokenizer="word")


def test_error_leaves_no_files(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("中文文本".encode("gbk"))
    with pytest.raises(DataError):
        prepare(tmp_path / "out", input_path=path)
    assert not (tmp_path / "out").exists()


def test_error_out_is_a_file(chinese_file, tmp_path):
    out = tmp_path / "taken"
    out.write_text("not a folder", encoding="utf-8")
    with pytest.raises(DataError, match="cannot write to .*taken"):
        prepare(out, input_path=chinese_file)


def test_error_char_unknown_in_new_text(chinese_file, tmp_path):
    out = tmp_path / "out"
    prepare(out, input_path=chinese_file)
    with pytest.raises(TokenizerError, match="'龘'.*different corpus"):
        load_tokenizer(out).encode("龘")


# ---------------------------------------------------------------- reading a data folder


def test_read_meta_missing(tmp_path):
    with pytest.raises(DataError, match="meta.json not found.*prepare --out"):
        read_meta(tmp_path)


def test_read_meta_invalid_json(tmp_path):
    (tmp_path / "meta.json").write_text("{", encoding="utf-8")
    with pytest.raises(DataError, match="cannot read"):
        read_meta(tmp_path)


def test_read_meta_missing_keys(tmp_path):
    (tmp_path / "meta.json").write_text(json.dumps({"vocab_size": 65}), encoding="utf-8")
    with pytest.raises(DataError, match="is missing tokenizer, dtype"):
        read_meta(tmp_path)


def test_load_tokens_unknown_split(chinese_file, tmp_path):
    prepare(tmp_path / "out", input_path=chinese_file)
    with pytest.raises(DataError, match="unknown split 'test'"):
        load_tokens(tmp_path / "out", "test")


def test_load_tokens_truncated(chinese_file, tmp_path):
    out = tmp_path / "out"
    prepare(out, input_path=chinese_file)
    (out / "val.bin").write_bytes(b"\x01\x00")
    with pytest.raises(DataError, match="val.bin has 2 bytes but meta.json expects"):
        load_tokens(out, "val")


# ---------------------------------------------------------------- prepare subcommand


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    prepare_command.add_arguments(parser)
    return parser.parse_args(argv)


def test_command_run(chinese_file, tmp_path, capsys):
    out = tmp_path / "out"
    args = _parse(["--input", str(chinese_file), "--tokenizer", "bpe", "--vocab-size", "300", "--out", str(out)])
    assert prepare_command.run(args) == 0
    assert "vocab size 300" in capsys.readouterr().out
    assert read_meta(out)["vocab_size"] == 300


def test_command_defaults(chinese_file, tmp_path):
    args = _parse(["--input", str(chinese_file), "--out", str(tmp_path)])
    assert args.tokenizer == "char"
    assert args.val_fraction == 0.1
    assert args.vocab_size is None


def test_command_needs_source(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _parse(["--out", str(tmp_path)])
    assert "one of the arguments --input --dataset is required" in capsys.readouterr().err


def test_command_error_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        prepare_command.main(["--input", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.startswith("error: input file not found")
    assert err.count("\n") == 1


def test_errors_are_gpt_errors():
    assert issubclass(DataError, GPTError)
    assert issubclass(TokenizerError, GPTError)
