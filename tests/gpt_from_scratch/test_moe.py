"""Mixture-of-experts tests: routing, gate weights, the load-balancing loss, gradients, KV cache, training and CLI."""

from __future__ import annotations

import dataclasses
import random

import pytest
import torch

from gpt_from_scratch.checkpoint import read_checkpoint
from gpt_from_scratch.cli import main
from gpt_from_scratch.config import TrainConfig
from gpt_from_scratch.data import prepare
from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.metrics import read_metrics
from gpt_from_scratch.model import GPT, GPTConfig
from gpt_from_scratch.moe import MoE, Router, load_balancing_loss
from gpt_from_scratch.optim import build_optimizer
from gpt_from_scratch.training import train


def tiny_config(**changes) -> GPTConfig:
    values = dict(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=16, bias=True, n_experts=4,
                  expert_top_k=2)
    return GPTConfig(**{**values, **changes})


def tiny_moe(seed: int = 0, **changes) -> MoE:
    torch.manual_seed(seed)
    return MoE(tiny_config(**changes))


def random_ids(batch: int, length: int, vocab: int = 11, seed: int = 1) -> torch.Tensor:
    return torch.randint(vocab, (batch, length), generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- router


def test_router_shapes():
    routing = Router(n_embd=8, n_experts=4, top_k=2)(torch.randn(10, 8))
    assert routing.probs.shape == (10, 4)
    assert routing.weights.shape == (10, 2)
    assert routing.experts.shape == (10, 2)


def test_router_picks_top_k():
    router = Router(n_embd=4, n_experts=4, top_k=2)
    with torch.no_grad():
        router.gate.weight.copy_(torch.eye(4))  # the score of expert i is feature i
    tokens = torch.tensor([[0.0, 3.0, 1.0, 2.0], [5.0, 0.0, 4.0, -1.0]])
    assert router(tokens).experts.tolist() == [[1, 3], [0, 2]]


def test_router_weights_sum_to_one():
    routing = Router(n_embd=8, n_experts=6, top_k=3)(torch.randn(20, 8))
    torch.testing.assert_close(routing.weights.sum(dim=-1), torch.ones(20))


def test_router_weights_follow_probabilities():
    routing = Router(n_embd=8, n_experts=4, top_k=2)(torch.randn(5, 8))
    chosen = routing.probs.gather(1, routing.experts)
    torch.testing.assert_close(routing.weights, chosen / chosen.sum(dim=-1, keepdim=True))


def test_router_top1_keeps_probability():
    routing = Router(n_embd=8, n_experts=4, top_k=1)(torch.randn(5, 8))
    torch.testing.assert_close(routing.weights, routing.probs.max(dim=-1, keepdim=True).values)


# ---------------------------------------------------------------- load-balancing loss


@pytest.mark.parametrize("top_k", [1, 2])
def test_aux_loss_uniform_routing(top_k):
    probs = torch.full((8, 4), 0.25)
    experts = torch.arange(8 * top_k).view(8, top_k) % 4  # every expert gets the same number of tokens
    assert load_balancing_loss(probs, experts).item() == pytest.approx(1.0)


def test_aux_loss_collapsed_routing():
    probs = torch.zeros(8, 4)
    probs[:, 0] = 1.0
    experts = torch.zeros(8, 1, dtype=torch.long)
    assert load_balancing_loss(probs, experts).item() == pytest.approx(4.0)


def test_aux_loss_gradient_lowers_busy_expert():
    logits = torch.zeros(6, 3, requires_grad=True)
    experts = torch.tensor([[0], [0], [0], [0], [1], [2]])  # expert 0 receives 4 of 6 tokens
    load_balancing_loss(logits.softmax(dim=-1), experts).backward()
    assert (logits.grad[:, 0] > 0).all()  # gradient descent lowers expert 0's logits


# ---------------------------------------------------------------- the MoE layer


def test_moe_matches_manual_mixture():
    moe = tiny_moe().eval()
    x = torch.randn(2, 3, 16)
    with torch.no_grad():
        out = moe(x)
        routing = moe.router(x.view(6, 16))
        expected = torch.stack([
            sum(w * moe.experts[e](token) for w, e in zip(weights, chosen, strict=True))
            for token, weights, chosen in zip(x.view(6, 16), routing.weights, routing.experts.tolist(), strict=True)
        ])
    torch.testing.assert_close(out.view(6, 16), expected)


def test_moe_counts_assignments():
    moe = tiny_moe()
    moe(torch.randn(2, 5, 16))
    assert moe.tokens_per_expert.sum().item() == 2 * 5 * 2
    assert moe.aux_loss.requires_grad


def test_moe_gradient_only_chosen_experts():
    moe = tiny_moe(n_experts=4, expert_top_k=2)
    token = torch.randn(1, 1, 16)
    moe(token).sum().backward()
    chosen = set(moe.router(token.view(1, 16)).experts[0].tolist())

    for index, expert in enumerate(moe.experts):
        grad = expert.c_fc.weight.grad
        assert grad is not None, f"expert {index}"  # a zero gradient, not none, for DistributedDataParallel
        assert (grad.abs().sum().item() > 0) == (index in chosen), f"expert {index}"
    assert moe.router.gate.weight.grad.abs().sum().item() > 0


def test_expert_width_default_matches_dense():
    assert tiny_config(expert_top_k=2).expert_hidden_size == 32  # 4 * 16 / 2
    assert tiny_config(expert_top_k=1).expert_hidden_size == 64


def test_active_params_equal_dense():
    # Without biases: K experts of width 4C / K would add K - 1 extra output biases.
    dense = GPT(tiny_config(n_experts=0, bias=False))
    moe = GPT(tiny_config(n_experts=4, expert_top_k=2, bias=False))
    router_params = 2 * 16 * 4  # one (E, C) gate per layer
    assert moe.num_active_params() == dense.num_params() + router_params
    expert_params = 2 * 16 * 32  # Linear(16 -> 32) and Linear(32 -> 16)
    assert moe.num_params() == dense.num_params() + router_params + 2 * (4 - 2) * expert_params


@pytest.mark.parametrize(("changes", "expected"), [
    (dict(n_experts=4, expert_top_k=5), "expert_top_k=5 is invalid for n_experts=4"),
    (dict(n_experts=4, expert_top_k=0), "expert_top_k=0 is invalid"),
    (dict(n_experts=-1), "n_experts=-1 is invalid"),
    (dict(expert_hidden_size=-8), "expert_hidden_size=-8 is invalid"),
], ids=["top-k-too-large", "top-k-zero", "negative-experts", "negative-width"])
def test_moe_config_invalid(changes, expected):
    with pytest.raises(GPTError, match=expected):
        tiny_config(**changes)


# ---------------------------------------------------------------- in the GPT


def test_moe_gpt_kv_cache_token_by_token():
    torch.manual_seed(0)
    model = GPT(tiny_config()).eval()
    ids = random_ids(2, 16)
    with torch.no_grad():
        full_logits, _ = model(ids)
        cache = model.new_kv_cache(batch_size=2)
        step_logits = [model(ids[:, t:t + 1], kv_cache=cache)[0] for t in range(16)]
    torch.testing.assert_close(torch.cat(step_logits, dim=1), full_logits, atol=1e-5, rtol=1e-5)


def test_moe_aux_loss_mean_of_layers():
    torch.manual_seed(0)
    model = GPT(tiny_config())
    model(random_ids(2, 8))
    layers = model.moe_layers()
    assert len(layers) == 2
    assert model.moe_aux_loss().item() == pytest.approx((layers[0].aux_loss + layers[1].aux_loss).item() / 2)


def test_dense_aux_loss_zero():
    model = GPT(tiny_config(n_experts=0))
    model(random_ids(1, 4))
    assert model.moe_aux_loss().item() == 0.0


def test_moe_gpt_overfits_batch():
    torch.manual_seed(0)
    model = GPT(tiny_config(n_embd=32))
    config = TrainConfig(n_layer=2, n_head=2, n_embd=32, block_size=16, learning_rate=1e-2, weight_decay=0.0)
    optimizer = build_optimizer(model, config, torch.device("cpu"))
    ids, targets = random_ids(4, 16, seed=6), random_ids(4, 16, seed=7)

    losses = []
    for _ in range(100):
        _, loss = model(ids, targets)
        optimizer.zero_grad(set_to_none=True)
        (loss + 0.01 * model.moe_aux_loss()).backward()
        optimizer.step()
        losses.append(loss.item())

    assert losses[-1] < 0.2 * losses[0]


# ---------------------------------------------------------------- training runs and the CLI


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("moe_corpus")
    rng = random.Random(0)
    words = ["the", "king", "queen", "shall", "not", "be", "love", "night", "day"]
    text = "\n".join(" ".join(rng.choice(words) for _ in range(8)) + "." for _ in range(300)) + "\n"
    (root / "a.txt").write_text(text, encoding="utf-8")
    prepare(root / "data", input_path=root / "a.txt")
    return root / "data"


def tiny_train_config(**changes) -> TrainConfig:
    values = dict(n_layer=2, n_head=2, n_embd=32, block_size=16, batch_size=4, max_iters=6, lr_decay_iters=6,
                  warmup_iters=2, eval_interval=3, eval_iters=2, log_interval=2, n_experts=4, expert_top_k=2,
                  gradient_accumulation_steps=2)
    return TrainConfig(**{**values, **changes})


def test_train_logs_expert_usage(data_dir, tmp_path):
    train(tiny_train_config(), data_dir, tmp_path / "run", device="cpu", progress=False)
    steps = [row for row in read_metrics(tmp_path / "run" / "metrics.jsonl") if row["kind"] == "step"]
    assert [row["iter"] for row in steps] == [1, 3, 5]
    for row in steps:
        assert len(row["expert_usage"]) == 2  # one list per layer
        assert all(sum(layer) == pytest.approx(1.0, abs=1e-3) for layer in row["expert_usage"])
        assert 1.0 <= row["aux_loss"] <= 4.0


def test_train_moe_resume_matches_uninterrupted(data_dir, tmp_path):
    config = tiny_train_config()
    straight = train(config, data_dir, tmp_path / "straight", device="cpu", progress=False)
    train(dataclasses.replace(config, max_iters=3), data_dir, tmp_path / "split", device="cpu", progress=False)
    resumed = train(config, data_dir, tmp_path / "split", device="cpu", resume=True, progress=False)

    for name, expected in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], expected), name


def test_resume_cannot_change_experts(data_dir, tmp_path):
    train(tiny_train_config(max_iters=2), data_dir, tmp_path / "run", device="cpu", progress=False)
    with pytest.raises(GPTError, match="cannot change n_experts from 4 to 8 when resuming"):
        train(tiny_train_config(max_iters=4, n_experts=8), data_dir, tmp_path / "run", device="cpu", resume=True,
              progress=False)


def test_cli_train_and_sample_moe(data_dir, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--data", str(data_dir), "--out", str(run), "--device", "cpu", "--n-layer", "2",
                 "--n-head", "2", "--n-embd", "32", "--block-size", "16", "--batch-size", "4", "--max-iters", "2",
                 "--eval-interval", "2", "--eval-iters", "1", "--n-experts", "4", "--expert-top-k", "2"]) == 0
    assert read_checkpoint(run)["model_config"]["n_experts"] == 4

    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(run), "--prompt", "the", "--max-new-tokens", "8", "--seed", "0"]) == 0
    assert capsys.readouterr().out.startswith("the")


def test_cli_invalid_top_k(data_dir, tmp_path, capsys):
    capsys.readouterr()
    assert main(["train", "--data", str(data_dir), "--out", str(tmp_path / "run"), "--n-experts", "4",
                 "--expert-top-k", "5"]) == 2
    assert "error: expert_top_k=5 is invalid for n_experts=4" in capsys.readouterr().err
