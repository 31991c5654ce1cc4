"""Character tokenizer, GPT-2 tokenizer through tiktoken, and rebuilding any tokenizer from its spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.tokenizers import (
    ENDOFTEXT,
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    TokenizerError,
    tokenizer_from_spec,
)
from gpt_from_scratch.tokenizers.gpt2 import GPT2Tokenizer

CHINESE = (Path(__file__).parent / "fixtures" / "chinese_sample.txt").read_text(encoding="utf-8")


# ---------------------------------------------------------------- char


def test_char_round_trip_english():
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n"
    tok = CharTokenizer.train(text)
    assert tok.decode(tok.encode(text)) == text


def test_char_round_trip_chinese():
    tok = CharTokenizer.train(CHINESE)
    ids = tok.encode(CHINESE)
    assert len(ids) == len(CHINESE)
    assert tok.decode(ids) == CHINESE


def test_char_vocab_sorted():
    tok = CharTokenizer.train("hello world")
    assert tok.itos == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert tok.vocab_size == 8
    assert tok.encode("hello") == [3, 2, 4, 4, 5]


def test_char_unknown_char_named():
    tok = CharTokenizer.train("hello")
    with pytest.raises(TokenizerError, match=r"character '中' \(U\+4E2D\) is not in the char vocabulary") as info:
        tok.encode("he中llo")
    assert "different corpus" in str(info.value)


def test_char_error_is_gpt_error():
    tok = CharTokenizer.train("abc")
    with pytest.raises(GPTError):
        tok.encode("z")


def test_char_decode_out_of_range():
    tok = CharTokenizer.train("abc")
    with pytest.raises(TokenizerError, match=r"token id 3 is outside the char vocabulary \(0..2\)"):
        tok.decode([0, 3])


def test_char_decode_negative_id():
    tok = CharTokenizer.train("abc")
    with pytest.raises(TokenizerError, match="token id -1"):
        tok.decode([-1])


def test_char_empty_vocab():
    with pytest.raises(TokenizerError, match="empty"):
        CharTokenizer.train("")


def test_char_spec_round_trip():
    tok = CharTokenizer.train(CHINESE)
    spec = json.loads(json.dumps(tok.to_spec(), ensure_ascii=False))
    rebuilt = tokenizer_from_spec(spec)
    assert spec["kind"] == "char"
    assert rebuilt.encode(CHINESE) == tok.encode(CHINESE)


def test_char_spec_invalid():
    with pytest.raises(TokenizerError, match="'vocab' list"):
        tokenizer_from_spec({"kind": "char", "chars": "abc"})


# ---------------------------------------------------------------- gpt2 through tiktoken


@pytest.fixture(scope="module")
def gpt2() -> GPT2Tokenizer:
    return GPT2Tokenizer()


def test_gpt2_known_ids(gpt2):
    assert gpt2.encode("Hello world") == [15496, 995]


def test_gpt2_round_trip_chinese(gpt2):
    assert gpt2.decode(gpt2.encode(CHINESE)) == CHINESE


def test_gpt2_special_allowed(gpt2):
    assert gpt2.encode(f"a{ENDOFTEXT}", allowed_special="all") == [64, 50256]


def test_gpt2_special_not_allowed_is_text(gpt2):
    ids = gpt2.encode(ENDOFTEXT)
    assert 50256 not in ids
    assert gpt2.decode(ids) == ENDOFTEXT


def test_gpt2_unknown_special(gpt2):
    with pytest.raises(TokenizerError, match="unknown special token"):
        gpt2.encode("hi", allowed_special={"<|fim_prefix|>"})


def test_gpt2_decode_out_of_range(gpt2):
    with pytest.raises(TokenizerError, match="token id 50257 is outside GPT-2's vocabulary"):
        gpt2.decode([50257])


def test_gpt2_spec(gpt2):
    rebuilt = tokenizer_from_spec(gpt2.to_spec())
    assert gpt2.to_spec() == {"kind": "gpt2"}
    assert rebuilt.vocab_size == 50257
    assert rebuilt.encode("Hello world") == [15496, 995]


# ---------------------------------------------------------------- protocol and spec dispatch


def test_protocol_all_kinds(gpt2):
    tokenizers = [CharTokenizer.train("abc"), BPETokenizer.train("abc abc", 260), gpt2]
    assert [tok.name for tok in tokenizers] == ["char", "bpe", "gpt2"]
    assert all(isinstance(tok, Tokenizer) for tok in tokenizers)


def test_spec_unknown_kind():
    with pytest.raises(TokenizerError, match="unknown tokenizer kind 'wordpiece'"):
        tokenizer_from_spec({"kind": "wordpiece"})


def test_spec_not_a_dict():
    with pytest.raises(TokenizerError, match="unknown tokenizer kind None"):
        tokenizer_from_spec(["char"])
