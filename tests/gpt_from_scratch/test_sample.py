"""Sampling tests: top-k and top-p filters, seeds, the KV cache in generation, streaming and prompt checks."""

from __future__ import annotations

import math

import pytest
import torch

from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.model import GPT, GPTConfig
from gpt_from_scratch.sample import (
    SamplingSettings,
    TextStream,
    encode_prompt,
    filter_top_k,
    filter_top_p,
    generate,
    sample_next_token,
)
from gpt_from_scratch.tokenizers import BPETokenizer, CharTokenizer

TEXT = "to be, or not to be: that is the question.\n"


@pytest.fixture(scope="module")
def tokenizer() -> CharTokenizer:
    return CharTokenizer.train(TEXT)


@pytest.fixture(scope="module")
def model(tokenizer) -> GPT:
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=tokenizer.vocab_size, block_size=12, n_layer=2, n_head=2, n_embd=16)
    return GPT(config).eval()


def log_probs(probabilities: list[float]) -> torch.Tensor:
    return torch.tensor([[math.log(p) for p in probabilities]])


def kept(logits: torch.Tensor) -> list[int]:
    return torch.isfinite(logits[0]).nonzero().flatten().tolist()


def test_top_k_keeps_largest():
    logits = torch.tensor([[0.1, 3.0, -1.0, 2.0, 0.5]])
    assert kept(filter_top_k(logits, 2)) == [1, 3]


def test_top_k_larger_than_vocab():
    logits = torch.tensor([[0.1, 3.0, -1.0]])
    assert kept(filter_top_k(logits, 10)) == [0, 1, 2]


def test_top_k_keeps_values():
    logits = torch.tensor([[0.1, 3.0, -1.0, 2.0]])
    assert filter_top_k(logits, 2)[0, 1].item() == pytest.approx(3.0)


@pytest.mark.parametrize(("p", "expected"), [(0.45, [2]), (0.75, [2, 0]), (0.85, [2, 0, 3]), (1.0, [2, 0, 3, 1])])
def test_top_p_smallest_set(p, expected):
    # Probabilities by token id: 0.3, 0.05, 0.5, 0.15 (sorted: token 2, 0, 3, 1).
    logits = log_probs([0.3, 0.05, 0.5, 0.15])
    assert kept(filter_top_p(logits, p)) == sorted(expected)


def test_top_p_keeps_most_likely_token():
    logits = log_probs([0.2, 0.7, 0.1])
    assert kept(filter_top_p(logits, 1e-6)) == [1]


def test_top_p_per_row():
    logits = torch.cat([log_probs([0.9, 0.05, 0.05]), log_probs([0.4, 0.3, 0.3])])
    filtered = filter_top_p(logits, 0.6)
    assert torch.isfinite(filtered[0]).tolist() == [True, False, False]
    assert torch.isfinite(filtered[1]).tolist() == [True, True, False]


def test_sampling_respects_top_k():
    logits = torch.tensor([[0.0, 5.0, 4.9, -3.0]]).repeat(500, 1)
    generator = torch.Generator().manual_seed(0)
    draws = sample_next_token(logits, SamplingSettings(top_k=2), generator)
    assert set(draws.tolist()) == {1, 2}


def test_temperature_zero_is_greedy():
    logits = torch.tensor([[0.0, 5.0, 4.9], [3.0, 1.0, 2.0]])
    assert sample_next_token(logits, SamplingSettings(temperature=0)).tolist() == [1, 0]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("temperature", -0.5, "temperature -0.5 is invalid"),
    ("top_k", 0, "top-k 0 is invalid"),
    ("top_p", 0.0, "top-p 0.0 is invalid"),
    ("top_p", 1.5, "top-p 1.5 is invalid"),
])
def test_settings_invalid(field, value, message):
    with pytest.raises(GPTError, match=message):
        SamplingSettings(**{field: value})


def test_generate_same_seed_same_text(model, tokenizer):
    first = generate(model, tokenizer, "to be", 40, seed=7)
    second = generate(model, tokenizer, "to be", 40, seed=7)
    assert first == second
    assert len(first) == 40


def test_generate_other_seed_other_text(model, tokenizer):
    first = generate(model, tokenizer, "to be", 40, seed=7)
    other = generate(model, tokenizer, "to be", 40, seed=8)
    assert first != other


def test_generate_cache_matches_no_cache(model, tokenizer):
    # 30 new tokens after a 5-token prompt run past block_size 12, where the window slides.
    cached = generate(model, tokenizer, "to be", 30, temperature=0, use_cache=True)
    uncached = generate(model, tokenizer, "to be", 30, temperature=0, use_cache=False)
    assert cached == uncached


def test_generate_sampled_cache_matches_no_cache(model, tokenizer):
    cached = generate(model, tokenizer, "not", 30, top_k=5, seed=3, use_cache=True)
    uncached = generate(model, tokenizer, "not", 30, top_k=5, seed=3, use_cache=False)
    assert cached == uncached


def test_generate_streams_same_text(model, tokenizer):
    pieces = []
    text = generate(model, tokenizer, "be", 20, seed=1, on_text=pieces.append)
    assert "".join(pieces) == text


def test_generate_invalid_max_new_tokens(model, tokenizer):
    with pytest.raises(GPTError, match="max new tokens 0 is invalid"):
        generate(model, tokenizer, "be", 0)


def test_prompt_longer_than_block(tokenizer):
    with pytest.raises(GPTError, match="13 tokens, more than the model's block size of 12"):
        encode_prompt(tokenizer, "to be, or not", block_size=12)


def test_prompt_cropped_to_block(tokenizer):
    ids = encode_prompt(tokenizer, "to be, or not", block_size=12, crop=True)
    assert tokenizer.decode(ids) == "o be, or not"


def test_prompt_empty(tokenizer):
    with pytest.raises(GPTError, match="prompt is empty"):
        encode_prompt(tokenizer, "", block_size=12)


def test_prompt_outside_char_vocab(model, tokenizer):
    with pytest.raises(GPTError, match="prompt cannot be encoded: character 'Z'"):
        generate(model, tokenizer, "Zebra", 5)


def test_stream_holds_split_character():
    tokenizer = BPETokenizer.train("abc", vocab_size=257)  # byte tokens only: one token per UTF-8 byte
    ids = tokenizer.encode("a中")
    stream = TextStream(tokenizer)
    pieces = [stream.push(i) for i in ids]
    assert pieces == ["a", "", "", "中"]


def test_stream_flush_releases_rest():
    tokenizer = BPETokenizer.train("abc", vocab_size=257)
    stream = TextStream(tokenizer)
    first_byte = tokenizer.encode("中")[0]
    assert stream.push(first_byte) == ""
    assert stream.flush() == "\ufffd"


def test_generate_restores_training_mode(model, tokenizer):
    model.train()
    generate(model, tokenizer, "be", 3, seed=0)
    assert model.training
    model.eval()
