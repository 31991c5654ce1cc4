"""Byte-level BPE: training, encoding, special tokens, files, and equality with tiktoken on GPT-2's ranks."""

from __future__ import annotations

import json
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
import regex

from gpt_from_scratch.tokenizers import ENDOFTEXT, GPT2_SPLIT_PATTERN, BPETokenizer, TokenizerError, tokenizer_from_spec
from gpt_from_scratch.tokenizers.bpe import text_to_token, token_to_text
from gpt_from_scratch.tokenizers.bpe_train import learn_merges
from gpt_from_scratch.tokenizers.gpt2 import gpt2_bpe, gpt2_encoding

FIXTURES = Path(__file__).parent / "fixtures"
CHINESE = (FIXTURES / "chinese_sample.txt").read_text(encoding="utf-8")
ENGLISH = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n\n"
    "First Citizen:\nFirst, you know Caius Marcius is chief enemy to the people.\n\n"
    "All:\nWe know't, we know't.\n\nFirst Citizen:\nLet us kill him, and we'll have corn at our own price.\n"
    "Is't a verdict?\n\nAll:\nNo more talking on't; let it be done: away, away!\n"
) * 3


@pytest.fixture(scope="module")
def english_bpe() -> BPETokenizer:
    return BPETokenizer.train(ENGLISH, 320)


@pytest.fixture(scope="module")
def chinese_bpe() -> BPETokenizer:
    return BPETokenizer.train(CHINESE, 400)


# ---------------------------------------------------------------- training


def test_train_english_round_trip(english_bpe):
    ids = english_bpe.encode(ENGLISH)
    assert english_bpe.decode(ids) == ENGLISH
    assert len(ids) < 0.6 * len(ENGLISH.encode("utf-8"))


def test_train_chinese_round_trip(chinese_bpe):
    ids = chinese_bpe.encode(CHINESE)
    assert chinese_bpe.decode(ids) == CHINESE
    assert len(ids) < len(CHINESE.encode("utf-8")) / 2


def test_unseen_text_round_trip(chinese_bpe):
    unseen = "龘靐 𠀀 emoji 😀 Ελληνικά \x00\t\r\n tab"
    assert chinese_bpe.decode(chinese_bpe.encode(unseen)) == unseen


def test_train_vocab_size_exact(chinese_bpe):
    assert chinese_bpe.vocab_size == 400
    assert chinese_bpe.special_tokens == {ENDOFTEXT: 399}
    assert len(chinese_bpe.merges) == 400 - 256 - 1
    assert max(chinese_bpe.encode(CHINESE)) < 400


def test_train_learns_common_chinese_char(chinese_bpe):
    # "的" occurs 11 times; its three UTF-8 bytes should end up as one token.
    assert len(chinese_bpe.encode("的")) == 1


def test_train_most_frequent_first():
    merges = learn_merges("ab ab ab cd", 2, pattern=GPT2_SPLIT_PATTERN)
    assert merges == [(b"a", b"b"), (b" ", b"ab")]


def test_train_deterministic():
    first = BPETokenizer.train(CHINESE, 330)
    second = BPETokenizer.train(CHINESE, 330)
    assert first.merges == second.merges


def test_train_matches_naive_recount():
    text = CHINESE + ENGLISH
    assert learn_merges(text, 250, pattern=GPT2_SPLIT_PATTERN) == _naive_merges(text, 250)


def test_train_vocab_too_small():
    with pytest.raises(TokenizerError, match="vocab size 256 is too small.*at least 256 byte tokens"):
        BPETokenizer.train(ENGLISH, 256)


def test_train_runs_out_of_pairs():
    tok = BPETokenizer.train("ab ab", 1000)
    assert tok.merges == [(b"a", b"b"), (b" ", b"ab")]
    assert tok.vocab_size == 256 + 2 + 1
    assert tok.decode(tok.encode("ab abc")) == "ab abc"


def test_train_skips_special_text():
    tok = BPETokenizer.train(f"hello{ENDOFTEXT}" * 50, 300)
    assert all(b"|" not in left + right for left, right in tok.merges)


# ---------------------------------------------------------------- special tokens


def test_special_allowed_gets_id(english_bpe):
    text = f"speak.{ENDOFTEXT}All:"
    ids = english_bpe.encode(text, allowed_special="all")
    assert ids.count(english_bpe.special_tokens[ENDOFTEXT]) == 1
    assert english_bpe.decode(ids) == text


def test_special_allowed_by_name(english_bpe):
    ids = english_bpe.encode(ENDOFTEXT, allowed_special={ENDOFTEXT})
    assert ids == [english_bpe.special_tokens[ENDOFTEXT]]


def test_special_not_allowed_is_text(english_bpe):
    ids = english_bpe.encode(f"speak.{ENDOFTEXT}All:")
    assert english_bpe.special_tokens[ENDOFTEXT] not in ids
    assert english_bpe.decode(ids) == f"speak.{ENDOFTEXT}All:"


def test_special_unknown_rejected(english_bpe):
    with pytest.raises(TokenizerError, match="unknown special token '<|im_start|>'"):
        english_bpe.encode("hi", allowed_special={"<|im_start|>"})


# ---------------------------------------------------------------- decoding, files, specs


def test_decode_unknown_id(english_bpe):
    with pytest.raises(TokenizerError, match="token id 5000 is not in this BPE vocabulary"):
        english_bpe.decode([5000])


def test_decode_split_character_replaced(chinese_bpe):
    byte_ids = list("中".encode())  # ids 0..255 are the single bytes
    assert chinese_bpe.decode(byte_ids[:2]) == "\ufffd"


def test_save_load_round_trip(chinese_bpe, tmp_path):
    path = tmp_path / "tokenizer.json"
    chinese_bpe.save(path)
    loaded = BPETokenizer.load(path)
    assert loaded.merges == chinese_bpe.merges
    assert loaded.special_tokens == chinese_bpe.special_tokens
    assert loaded.encode(CHINESE) == chinese_bpe.encode(CHINESE)


def test_save_file_readable(chinese_bpe, tmp_path):
    path = tmp_path / "tokenizer.json"
    chinese_bpe.save(path)
    text = path.read_text(encoding="utf-8")
    merge_lines = [line.strip().rstrip(",") for line in text.splitlines() if line.startswith('    ["')]
    assert len(merge_lines) == len(chinese_bpe.merges)
    assert any("的" in line for line in merge_lines)
    assert json.loads(text)["special_tokens"] == {ENDOFTEXT: 399}


def test_load_missing_file(tmp_path):
    with pytest.raises(TokenizerError, match="not found"):
        BPETokenizer.load(tmp_path / "absent.json")


def test_load_corrupt_merge(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps({"kind": "bpe", "merges": [["ab", "c"]]}), encoding="utf-8")
    with pytest.raises(TokenizerError, match="not an earlier token"):
        BPETokenizer.load(path)


def test_spec_round_trip(chinese_bpe):
    spec = json.loads(json.dumps(chinese_bpe.to_spec()))
    rebuilt = tokenizer_from_spec(spec)
    assert rebuilt.encode(CHINESE) == chinese_bpe.encode(CHINESE)
    assert rebuilt.vocab_size == chinese_bpe.vocab_size


@pytest.mark.parametrize("token", [b"\xe4\xb8", b"\\", b"\\x41", b"a\\xb", b"\xff\x00", "中".encode(), b"\n\t"])
def test_token_text_round_trip(token):
    assert text_to_token(token_to_text(token)) == token


def test_token_text_readable():
    assert token_to_text("中文".encode()) == "中文"
    assert token_to_text(b"\xe4\xb8") == "\\xe4\\xb8"


# ---------------------------------------------------------------- GPT-2's ranks: same ids as tiktoken


def test_gpt2_ranks_match_tiktoken_shakespeare(shakespeare_path):
    text = shakespeare_path.read_text(encoding="utf-8")[:50_000]
    expected = gpt2_encoding().encode_ordinary(text)
    assert gpt2_bpe().encode(text) == expected


def test_gpt2_ranks_match_tiktoken_chinese():
    expected = gpt2_encoding().encode_ordinary(CHINESE)
    assert gpt2_bpe().encode(CHINESE) == expected


def test_gpt2_ranks_match_tiktoken_special():
    text = f"Hello{ENDOFTEXT} world"
    expected = gpt2_encoding().encode(text, allowed_special="all")
    assert gpt2_bpe().encode(text, allowed_special="all") == expected


def test_gpt2_ranks_match_tiktoken_surrogate():
    text = "a\ud800b \ud83d\ude00"
    expected = gpt2_encoding().encode_ordinary(text)
    assert gpt2_bpe().encode(text) == expected


def test_gpt2_ranks_spec_lists_tokens():
    tok = gpt2_bpe()
    spec = tok.to_spec()
    rebuilt = tokenizer_from_spec(spec)
    assert "tokens" in spec
    assert len(spec["tokens"]) == 50256
    assert rebuilt.encode("Hello world, 你好") == tok.encode("Hello world, 你好")


# ---------------------------------------------------------------- reference for the incremental trainer


def _naive_merges(text: str, num_merges: int) -> list[tuple[bytes, bytes]]:
    """Recount every pair of the whole corpus before each merge: slow, but obviously correct."""
    words = Counter(regex.findall(GPT2_SPLIT_PATTERN, text))
    sequences = {word: [bytes([b]) for b in word.encode("utf-8")] for word in words}
    merges: list[tuple[bytes, bytes]] = []
    known = {bytes([b]) for b in range(256)}
    ids = {bytes([b]): b for b in range(256)}
    skipped: set[tuple[bytes, bytes]] = set()
    while len(merges) < num_merges:
        pair_counts: Counter[tuple[bytes, bytes]] = Counter()
        for word, parts in sequences.items():
            for pair in pairwise(parts):
                pair_counts[pair] += words[word]
        candidates = [(count, pair) for pair, count in pair_counts.items() if pair not in skipped]
        if not candidates:
            break
        # Highest count first, then the smaller pair of token ids, as the trainer breaks ties.
        count, pair = min(candidates, key=lambda item: (-item[0], ids[item[1][0]], ids[item[1][1]]))
        if pair[0] + pair[1] in known:
            skipped.add(pair)
            continue
        merges.append(pair)
        known.add(pair[0] + pair[1])
        ids[pair[0] + pair[1]] = 256 + len(merges) - 1
        for word, parts in sequences.items():
            sequences[word] = _merge_parts(parts, pair)
    return merges


def _merge_parts(parts: list[bytes], pair: tuple[bytes, bytes]) -> list[bytes]:
    merged, i = [], 0
    while i < len(parts):
        if i + 1 < len(parts) and (parts[i], parts[i + 1]) == pair:
            merged.append(parts[i] + parts[i + 1])
            i += 2
        else:
            merged.append(parts[i])
            i += 1
    return merged
