"""Model tests on tiny GPTs: causality, the two attention implementations, the KV cache, init and overfitting."""

from __future__ import annotations

import math

import pytest
import torch

from gpt_from_scratch.config import TrainConfig
from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.model import GPT, GPTConfig
from gpt_from_scratch.optim import build_optimizer

ATTENTIONS = ["fused", "explicit"]


def tiny_config(**changes) -> GPTConfig:
    values = dict(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=16, dropout=0.0, bias=True)
    return GPTConfig(**{**values, **changes})


def tiny_model(seed: int = 0, **changes) -> GPT:
    torch.manual_seed(seed)
    return GPT(tiny_config(**changes)).eval()


def random_ids(batch: int, length: int, vocab: int = 11, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(vocab, (batch, length), generator=generator)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_causal_mask_future_token(attention):
    model = tiny_model(attention=attention)
    ids = random_ids(2, 12)
    changed = ids.clone()
    changed[:, 7] = (changed[:, 7] + 1) % 11

    with torch.no_grad():
        logits, _ = model(ids)
        changed_logits, _ = model(changed)

    assert torch.equal(logits[:, :7], changed_logits[:, :7])
    assert not torch.allclose(logits[:, 7:], changed_logits[:, 7:])


def test_explicit_matches_fused_forward():
    fused = tiny_model(attention="fused")
    explicit = tiny_model(attention="explicit")
    explicit.load_state_dict(fused.state_dict())
    ids = random_ids(3, 16)

    with torch.no_grad():
        fused_logits, _ = fused(ids)
        explicit_logits, _ = explicit(ids)

    torch.testing.assert_close(explicit_logits, fused_logits, atol=1e-5, rtol=1e-5)


def test_explicit_matches_fused_gradients():
    fused = tiny_model(attention="fused").train()
    explicit = tiny_model(attention="explicit").train()
    explicit.load_state_dict(fused.state_dict())
    ids, targets = random_ids(2, 16, seed=2), random_ids(2, 16, seed=3)

    fused(ids, targets)[1].backward()
    explicit(ids, targets)[1].backward()

    for (name, fused_param), explicit_param in zip(fused.named_parameters(), explicit.parameters(), strict=True):
        torch.testing.assert_close(explicit_param.grad, fused_param.grad, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_kv_cache_token_by_token(attention):
    model = tiny_model(attention=attention)
    ids = random_ids(2, 16)
    with torch.no_grad():
        full_logits, _ = model(ids)
        cache = model.new_kv_cache(batch_size=2)
        step_logits = [model(ids[:, t:t + 1], kv_cache=cache)[0] for t in range(16)]

    torch.testing.assert_close(torch.cat(step_logits, dim=1), full_logits, atol=1e-5, rtol=1e-5)
    assert cache.length == 16


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_kv_cache_prefill_then_chunk(attention):
    # A chunk of several tokens after a cached prefix needs the causal mask shifted by the prefix length.
    model = tiny_model(attention=attention)
    ids = random_ids(1, 14)
    with torch.no_grad():
        full_logits, _ = model(ids)
        cache = model.new_kv_cache(batch_size=1)
        prefix_logits, _ = model(ids[:, :5], kv_cache=cache)
        chunk_logits, _ = model(ids[:, 5:9], kv_cache=cache)
        last_logits, _ = model(ids[:, 9:], kv_cache=cache, only_last=True)

    torch.testing.assert_close(prefix_logits, full_logits[:, :5], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(chunk_logits, full_logits[:, 5:9], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(last_logits, full_logits[:, -1:], atol=1e-5, rtol=1e-5)


def test_kv_cache_overflow_error():
    model = tiny_model()
    cache = model.new_kv_cache(batch_size=1)
    with torch.no_grad():
        model(random_ids(1, 16), kv_cache=cache)
        with pytest.raises(GPTError, match="exceeds block_size 16"):
            model(random_ids(1, 1), kv_cache=cache)


def test_block_size_exceeded_error():
    model = tiny_model()
    with pytest.raises(GPTError, match="sequence of 17 tokens exceeds block_size 16"):
        model(random_ids(1, 17))


def test_config_invalid_heads():
    with pytest.raises(GPTError, match="not divisible by n_head"):
        tiny_config(n_embd=10, n_head=3)


def test_config_invalid_attention():
    with pytest.raises(GPTError, match="invalid attention"):
        tiny_config(attention="flash")


def test_weight_tying_shares_tensor():
    model = tiny_model()
    assert model.lm_head.weight is model.transformer.wte.weight


def test_num_params_excludes_position_embedding():
    model = tiny_model()
    unique_total = sum(p.numel() for p in model.parameters())  # the tied matrix counts once
    assert model.num_params(non_embedding=False) == unique_total
    assert model.num_params() == unique_total - 16 * 16


def test_num_params_cpu_config():
    # nanoGPT reports 0.80M for this Shakespeare character-level CPU config.
    model = GPT(TrainConfig().model_config(vocab_size=65))
    assert model.num_params() == 795_904


def test_init_scales_residual_projections():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=65, block_size=8, n_layer=8, n_head=4, n_embd=128))
    block = model.transformer.h[0]
    assert block.mlp.c_fc.weight.std().item() == pytest.approx(0.02, rel=0.02)
    assert block.mlp.c_proj.weight.std().item() == pytest.approx(0.02 / math.sqrt(16), rel=0.02)
    assert block.attn.c_proj.weight.std().item() == pytest.approx(0.02 / math.sqrt(16), rel=0.03)


def test_initial_loss_near_uniform():
    # Small init weights give near-uniform predictions, so the loss starts near ln(vocab_size).
    model = tiny_model(vocab_size=50)
    ids, targets = random_ids(4, 16, vocab=50, seed=4), random_ids(4, 16, vocab=50, seed=5)
    with torch.no_grad():
        _, loss = model(ids, targets)
    assert loss.item() == pytest.approx(math.log(50), abs=0.1)


def test_only_last_with_targets_rejected():
    model = tiny_model()
    with pytest.raises(ValueError, match="only_last"):
        model(random_ids(1, 4), random_ids(1, 4), only_last=True)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_overfit_one_batch(attention):
    torch.manual_seed(0)
    model = GPT(tiny_config(n_embd=32, attention=attention))
    config = TrainConfig(n_layer=2, n_head=2, n_embd=32, block_size=16, learning_rate=1e-2, weight_decay=0.0)
    optimizer = build_optimizer(model, config, torch.device("cpu"))
    ids, targets = random_ids(4, 16, seed=6), random_ids(4, 16, seed=7)

    for _ in range(150):
        _, loss = model(ids, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    assert loss.item() < 0.05
