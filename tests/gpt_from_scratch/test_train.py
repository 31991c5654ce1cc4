"""Training tests on a tiny corpus: schedule, optimizer groups, batches, configs, outputs, resume and init-from."""

from __future__ import annotations

import dataclasses
import json
import random

import numpy as np
import pytest
import torch

from gpt_from_scratch.batches import TokenBatches
from gpt_from_scratch.checkpoint import read_checkpoint
from gpt_from_scratch.config import CONFIG_DIR, TrainConfig, config_from_dict, load_config_file
from gpt_from_scratch.data import prepare
from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.metrics import read_metrics
from gpt_from_scratch.model import GPT
from gpt_from_scratch.optim import build_optimizer, learning_rate_at
from gpt_from_scratch.training import train

WORDS = ["the", "king", "queen", "shall", "not", "be", "to", "or", "what", "is", "love", "night", "day"]


def write_corpus(path, seed: int, words=WORDS, lines: int = 400) -> None:
    rng = random.Random(seed)
    text = "\n".join(" ".join(rng.choice(words) for _ in range(8)) + "." for _ in range(lines)) + "\n"
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root / "a.txt", seed=0)
    prepare(root / "data", input_path=root / "a.txt")
    return root / "data"


def tiny_train_config(**changes) -> TrainConfig:
    values = dict(n_layer=2, n_head=2, n_embd=32, block_size=16, batch_size=4, dropout=0.1, max_iters=8,
                  lr_decay_iters=8, warmup_iters=2, eval_interval=3, eval_iters=2, log_interval=1)
    return TrainConfig(**{**values, **changes})


def step_losses(run_dir) -> dict[int, float]:
    return {row["iter"]: row["train_loss"] for row in read_metrics(run_dir / "metrics.jsonl") if row["kind"] == "step"}


# ---------------------------------------------------------------- schedule and optimizer


def test_lr_warmup_then_cosine():
    config = TrainConfig(learning_rate=1e-3, min_lr=1e-4, warmup_iters=10, lr_decay_iters=110)
    assert learning_rate_at(0, config) == pytest.approx(1e-3 / 11)
    assert learning_rate_at(10, config) == pytest.approx(1e-3)
    assert learning_rate_at(60, config) == pytest.approx(5.5e-4)
    assert learning_rate_at(110, config) == pytest.approx(1e-4)
    assert learning_rate_at(500, config) == pytest.approx(1e-4)


def test_lr_schedule_monotone_after_warmup():
    config = TrainConfig()
    rates = [learning_rate_at(i, config) for i in range(config.warmup_iters, config.lr_decay_iters + 1)]
    assert all(later <= earlier for earlier, later in zip(rates, rates[1:], strict=False))


def test_lr_constant_without_decay():
    config = TrainConfig(decay_lr=False)
    assert learning_rate_at(5, config) == config.learning_rate


def test_optimizer_decay_groups():
    config = tiny_train_config(bias=True)
    model = GPT(config.model_config(vocab_size=20))
    decayed, not_decayed = build_optimizer(model, config, torch.device("cpu")).param_groups
    assert decayed["fused"] is True
    assert decayed["weight_decay"] == config.weight_decay
    assert not_decayed["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decayed["params"])
    assert all(p.dim() == 1 for p in not_decayed["params"])
    assert any(p is model.lm_head.weight for p in decayed["params"])
    assert len(decayed["params"]) + len(not_decayed["params"]) == len(list(model.parameters()))


# ---------------------------------------------------------------- batches


def test_batches_targets_shifted():
    tokens = np.arange(100, dtype=np.uint16)
    x, y = TokenBatches(tokens, block_size=8, batch_size=5, device=torch.device("cpu"), seed=0).next()
    assert x.shape == (5, 8)
    assert x.dtype == torch.int64
    assert torch.equal(y, x + 1)


def test_batches_same_seed_same_batches():
    tokens = np.arange(1000, dtype=np.uint16)
    first = TokenBatches(tokens, 8, 4, torch.device("cpu"), seed=3)
    second = TokenBatches(tokens, 8, 4, torch.device("cpu"), seed=3)
    assert all(torch.equal(first.next()[0], second.next()[0]) for _ in range(5))


def test_batches_state_restores_sequence():
    tokens = np.arange(1000, dtype=np.uint16)
    batches = TokenBatches(tokens, 8, 4, torch.device("cpu"), seed=3)
    batches.next()
    state = batches.state()
    expected = batches.next()[0]
    batches.next()
    batches.load_state(state)
    assert torch.equal(batches.next()[0], expected)


def test_batches_split_too_small():
    with pytest.raises(GPTError, match="val split has 8 tokens, fewer than block_size \\+ 1 = 9"):
        TokenBatches(np.arange(8, dtype=np.uint16), 8, 4, torch.device("cpu"), seed=0, split="val")


# ---------------------------------------------------------------- configs


def test_cpu_config_file_equals_defaults():
    assert load_config_file(CONFIG_DIR / "shakespeare_char_cpu.json") == TrainConfig()


def test_gpu_config_by_name():
    config = load_config_file("shakespeare_char_gpu")
    assert (config.n_layer, config.n_embd, config.block_size, config.dtype, config.compile) == (
        6, 384, 256, "bfloat16", True)


def test_config_unknown_field(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"n_layers": 4}))
    with pytest.raises(GPTError, match="unknown field\\(s\\) n_layers"):
        load_config_file(path)


def test_config_wrong_type():
    with pytest.raises(GPTError, match="field max_iters must be of type int"):
        config_from_dict({"max_iters": "2000"})


def test_config_invalid_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{n_layer: 4}")
    with pytest.raises(GPTError, match="not valid JSON"):
        load_config_file(path)


def test_config_missing_file():
    with pytest.raises(GPTError, match="config file nope.json not found"):
        load_config_file("nope.json")


def test_config_invalid_value():
    with pytest.raises(GPTError, match="batch_size=0 is invalid"):
        TrainConfig(batch_size=0)


# ---------------------------------------------------------------- runs


def test_train_writes_outputs(data_dir, tmp_path):
    result = train(tiny_train_config(), data_dir, tmp_path / "run", device="cpu", progress=False)

    for name in ("config.json", "metrics.jsonl", "loss.png", "ckpt.pt"):
        assert (tmp_path / "run" / name).is_file(), name
    rows = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert [row["iter"] for row in rows if row["kind"] == "eval"] == [0, 3, 6, 8]
    assert [row["iter"] for row in rows if row["kind"] == "step"] == list(range(8))
    assert all(row["tokens_per_s"] > 0 for row in rows if row["kind"] == "step")
    assert result.iteration == 8
    assert result.final_val_loss == rows[-1]["val_loss"]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["tokens_per_iter"] == 64


def test_train_loss_decreases(data_dir, tmp_path):
    config = tiny_train_config(max_iters=60, lr_decay_iters=60, eval_interval=60, eval_iters=4, dropout=0.0,
                               learning_rate=3e-3, min_lr=3e-4)
    train(config, data_dir, tmp_path / "run", device="cpu", progress=False)
    evals = [row for row in read_metrics(tmp_path / "run" / "metrics.jsonl") if row["kind"] == "eval"]
    assert evals[-1]["val_loss"] < evals[0]["val_loss"] - 0.5


def test_checkpoint_contents(data_dir, tmp_path):
    train(tiny_train_config(), data_dir, tmp_path / "run", device="cpu", progress=False)
    checkpoint = read_checkpoint(tmp_path / "run")
    assert checkpoint["iter"] == 8
    assert checkpoint["evaluated_iter"] == 8
    assert checkpoint["tokenizer"]["kind"] == "char"
    assert set(checkpoint["rng"][0]) >= {"python", "numpy", "torch", "batches"}
    assert checkpoint["best_val_loss"] < 10


def test_compiled_run_saves_plain_weights(data_dir, tmp_path):
    """torch.compile trains the model, and the checkpoint still loads into an uncompiled GPT."""
    result = train(tiny_train_config(compile=True, max_iters=4), data_dir, tmp_path / "run", device="cpu",
                   progress=False)
    checkpoint = read_checkpoint(tmp_path / "run")
    assert result.final_val_loss is not None
    assert np.isfinite(result.final_val_loss)
    assert not any(key.startswith("_orig_mod.") for key in checkpoint["model"])
    GPT(result.model.config).load_state_dict(checkpoint["model"])


def test_resume_matches_uninterrupted(data_dir, tmp_path):
    config = tiny_train_config(gradient_accumulation_steps=2)
    straight = train(config, data_dir, tmp_path / "straight", device="cpu", progress=False)

    train(dataclasses.replace(config, max_iters=4), data_dir, tmp_path / "split", device="cpu", progress=False)
    resumed = train(config, data_dir, tmp_path / "split", device="cpu", resume=True, progress=False)

    for name, expected in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], expected), name
    assert step_losses(tmp_path / "split") == step_losses(tmp_path / "straight")
    assert resumed.final_val_loss == straight.final_val_loss


def test_resume_keeps_metrics_once(data_dir, tmp_path):
    config = tiny_train_config()
    train(dataclasses.replace(config, max_iters=4), data_dir, tmp_path / "run", device="cpu", progress=False)
    train(config, data_dir, tmp_path / "run", device="cpu", resume=True, progress=False)
    rows = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert [row["iter"] for row in rows if row["kind"] == "eval"] == [0, 3, 4, 6, 8]
    assert [row["iter"] for row in rows if row["kind"] == "step"] == list(range(8))


def test_resume_without_checkpoint(data_dir, tmp_path):
    with pytest.raises(GPTError, match="nothing to resume"):
        train(tiny_train_config(), data_dir, tmp_path / "empty", device="cpu", resume=True, progress=False)


def test_resume_changed_architecture(data_dir, tmp_path):
    config = tiny_train_config(max_iters=2)
    train(config, data_dir, tmp_path / "run", device="cpu", progress=False)
    changed = dataclasses.replace(config, n_layer=3, max_iters=4)
    with pytest.raises(GPTError, match="cannot change n_layer from 2 to 3 when resuming"):
        train(changed, data_dir, tmp_path / "run", device="cpu", resume=True, progress=False)


def test_resume_finished_run(data_dir, tmp_path):
    config = tiny_train_config(max_iters=2)
    train(config, data_dir, tmp_path / "run", device="cpu", progress=False)
    with pytest.raises(GPTError, match="pass a larger --max-iters"):
        train(config, data_dir, tmp_path / "run", device="cpu", resume=True, progress=False)


def test_init_from_same_tokenizer(data_dir, tmp_path):
    trained = train(tiny_train_config(max_iters=30, lr_decay_iters=30, eval_interval=30, dropout=0.0),
                    data_dir, tmp_path / "base", device="cpu", progress=False)
    write_corpus(tmp_path / "b.txt", seed=1)  # other lines from the same characters
    prepare(tmp_path / "data_b", input_path=tmp_path / "b.txt")

    # The shape comes from the checkpoint even though this config sets 4 layers.
    config = tiny_train_config(n_layer=4, max_iters=0, eval_iters=4, dropout=0.0)
    tuned = train(config, tmp_path / "data_b", tmp_path / "tuned", device="cpu", init_from=tmp_path / "base",
                  progress=False)

    assert tuned.model.config.n_layer == 2
    for name, expected in trained.model.state_dict().items():
        assert torch.equal(tuned.model.state_dict()[name], expected), name
    assert read_checkpoint(tmp_path / "tuned")["iter"] == 0


def test_init_from_other_vocabulary(data_dir, tmp_path):
    train(tiny_train_config(max_iters=2), data_dir, tmp_path / "base", device="cpu", progress=False)
    write_corpus(tmp_path / "c.txt", seed=2, words=["xyz", "quux", "jump"])
    prepare(tmp_path / "data_c", input_path=tmp_path / "c.txt")
    with pytest.raises(GPTError, match="was prepared with a different char tokenizer"):
        train(tiny_train_config(), tmp_path / "data_c", tmp_path / "tuned", device="cpu",
              init_from=tmp_path / "base", progress=False)


def test_missing_data_dir(tmp_path):
    with pytest.raises(GPTError, match="not a prepared data folder"):
        train(tiny_train_config(), tmp_path / "nowhere", tmp_path / "run", device="cpu", progress=False)


def test_resume_and_init_from_exclusive(data_dir, tmp_path):
    with pytest.raises(GPTError, match="exclude each other"):
        train(tiny_train_config(), data_dir, tmp_path / "run", device="cpu", resume=True, init_from=tmp_path,
              progress=False)
