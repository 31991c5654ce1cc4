"""RLVR in miniature: pre-train a small GPT on two-digit addition, then fine-tune it with GRPO (``rlvr.py``).

``python -m gpt_from_scratch rlvr --out DIR`` runs these steps:

1. split the 10,000 problems ``a+b=`` into train and held-out ones, and prepare the train problems as a
   character-level corpus (``addition.py``);
2. pre-train a small GPT on that corpus briefly with :func:`gpt_from_scratch.training.train`, so that it has
   learned the format but still gets many sums wrong;
3. measure greedy accuracy on the held-out problems and on a sample of train problems;
4. for ``steps`` steps: sample ``group_size`` answers for each of ``prompts_per_step`` train problems, reward
   each exact sum with 1, and take one GRPO gradient step;
5. measure the accuracies again and write ``metrics.jsonl``, ``reward.png``, ``summary.json`` and the
   fine-tuned model ``policy/ckpt.pt``, which the ``sample`` command reads.

This module imports torch only when the experiment runs, so that the command-line parser stays fast.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import logging
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpt_from_scratch.addition import STOP, Problem, corpus_text, split_problems
from gpt_from_scratch.config import TrainConfig
from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.metrics import save_figure, write_text_atomic

logger = logging.getLogger(__name__)

SUMMARY_FILE = "summary.json"
PLOT_FILE = "reward.png"
POLICY_DIR = "policy"
TRAIN_SAMPLE_PROBLEMS = 1000  # train problems whose greedy accuracy is measured next to the held-out ones


def _option(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class RLVRConfig:
    """Settings of the pre-training and of the reinforcement-learning fine-tuning."""

    # Pre-training on the addition corpus
    n_layer: int = _option(2, "Transformer blocks")
    n_head: int = _option(4, "attention heads per block")
    n_embd: int = _option(64, "embedding width")
    block_size: int = _option(32, "context length in characters")
    pretrain_iters: int = _option(1000, "pre-training iterations; few enough that the model stays imperfect")
    pretrain_batch_size: int = _option(32, "pre-training sequences per iteration")
    pretrain_lr: float = _option(3e-3, "pre-training peak learning rate")

    # Reinforcement learning
    steps: int = _option(200, "GRPO steps")
    prompts_per_step: int = _option(64, "problems per GRPO step")
    group_size: int = _option(16, "answers sampled per problem; their mean reward is the baseline")
    learning_rate: float = _option(2e-4, "GRPO learning rate (AdamW, constant)")
    temperature: float = _option(1.0, "sampling temperature of the answers")
    kl_coef: float = _option(0.0, "weight of the KL penalty to the pre-trained model; 0 leaves it out")
    normalize_advantage: bool = _option(True, "divide advantages by their group's standard deviation, as GRPO does")
    format_reward: float = _option(0.0, "reward of a wrong but well-formed answer")
    max_answer_tokens: int = _option(4, "tokens sampled per answer: up to 3 digits and the newline")

    # Evaluation
    held_out_fraction: float = _option(0.1, "fraction of the problems kept out of pre-training and RL")
    eval_interval: int = _option(25, "measure greedy accuracy every N GRPO steps")
    seed: int = _option(0, "seed of the problem split, the weights and the sampling")

    def __post_init__(self) -> None:
        for name in ("pretrain_iters", "prompts_per_step", "steps", "max_answer_tokens", "eval_interval"):
            if getattr(self, name) < 1:
                raise GPTError(f"{name}={getattr(self, name)} is invalid; it must be a positive integer")
        if self.group_size < 2:
            raise GPTError(f"group_size={self.group_size} is invalid; a group baseline needs at least 2 samples "
                           "per problem")
        if not self.temperature > 0:
            raise GPTError(f"temperature={self.temperature} is invalid; sampling needs a positive value such as 1.0")
        if self.kl_coef < 0 or self.learning_rate < 0:
            raise GPTError(f"kl_coef={self.kl_coef} and learning_rate={self.learning_rate} must be 0 or more")
        if not 0.0 < self.held_out_fraction < 1.0:
            raise GPTError(f"held_out_fraction={self.held_out_fraction} is invalid; use a value between 0 and 1, "
                           "such as 0.1")
        if not 0.0 <= self.format_reward < 1.0:
            raise GPTError(f"format_reward={self.format_reward} is invalid; use a value in [0, 1), below the "
                           "reward of a right answer")
        longest = len(STOP + Problem(99, 99).prompt) + self.max_answer_tokens
        if self.block_size < longest:
            raise GPTError(f"block_size={self.block_size} is too small; a prompt and its answer need {longest} tokens")
        self.pretrain_config()  # TrainConfig checks the model shape and the pre-training settings

    def pretrain_config(self) -> TrainConfig:
        return TrainConfig(n_layer=self.n_layer, n_head=self.n_head, n_embd=self.n_embd, block_size=self.block_size,
                           batch_size=self.pretrain_batch_size, learning_rate=self.pretrain_lr,
                           min_lr=self.pretrain_lr / 10, warmup_iters=min(50, self.pretrain_iters // 10),
                           lr_decay_iters=self.pretrain_iters, max_iters=self.pretrain_iters,
                           eval_interval=self.pretrain_iters, eval_iters=20,
                           log_interval=max(1, min(50, self.pretrain_iters // 10)), seed=self.seed)

    def grpo_settings(self):
        from gpt_from_scratch.rlvr import GRPOSettings

        return GRPOSettings(group_size=self.group_size, temperature=self.temperature,
                            max_answer_tokens=self.max_answer_tokens, normalize_advantage=self.normalize_advantage,
                            kl_coef=self.kl_coef, format_reward=self.format_reward)


# Seconds on a CPU, for tests: the model learns little, but every step and output runs.
QUICK = RLVRConfig(n_embd=32, n_head=2, block_size=16, pretrain_iters=20, pretrain_batch_size=8, steps=4,
                   prompts_per_step=4, group_size=4, eval_interval=2)


# ---------------------------------------------------------------- the experiment


def run_rlvr(config: RLVRConfig, out_dir: str | os.PathLike, *, device: str = "auto",
             progress: bool | None = None) -> dict[str, Any]:
    """Run the steps of the module docstring and return the content of summary.json."""
    import torch

    from gpt_from_scratch.data import load_tokenizer, prepare
    from gpt_from_scratch.metrics import MetricsLog, make_output_dir
    from gpt_from_scratch.rlvr import grpo_step
    from gpt_from_scratch.training import train

    started = time.perf_counter()
    out_dir = make_output_dir(out_dir)

    # Step 1: problems and corpus.
    train_problems, held_out = split_problems(config.held_out_fraction, config.seed)
    corpus_path = out_dir / "data" / "corpus.txt"
    write_text_atomic(corpus_path, corpus_text(train_problems))
    prepare(out_dir / "data", input_path=corpus_path)
    tokenizer = load_tokenizer(out_dir / "data")

    # Step 2: brief pre-training.
    logger.info("pre-training on %d problems for %d iterations", len(train_problems), config.pretrain_iters)
    pretrained = train(config.pretrain_config(), out_dir / "data", out_dir / "pretrain", device=device,
                       progress=progress)
    policy = pretrained.model
    reference = copy.deepcopy(policy).eval().requires_grad_(False) if config.kl_coef > 0 else None

    # Step 3: accuracy before RL.
    train_sample = random.Random(config.seed + 1).sample(train_problems, min(TRAIN_SAMPLE_PROBLEMS,
                                                                             len(train_problems)))
    metrics = MetricsLog(out_dir)
    before = _evaluate(policy, tokenizer, held_out, train_sample, config)
    metrics.append({"kind": "eval", "step": 0, **before})
    logger.info("before RL: held-out accuracy %.3f, train accuracy %.3f", before["held_out_accuracy"],
                before["train_accuracy"])

    # Step 4: GRPO.
    optimizer = torch.optim.AdamW(policy.parameters(), lr=config.learning_rate, betas=(0.9, 0.99), weight_decay=0.0)
    device_of_policy = next(policy.parameters()).device
    generator = torch.Generator(device=device_of_policy).manual_seed(config.seed)
    problem_rng = random.Random(config.seed + 2)
    settings = config.grpo_settings()
    for step in range(1, config.steps + 1):
        problems = problem_rng.sample(train_problems, config.prompts_per_step)
        row = grpo_step(policy, optimizer, tokenizer, problems, settings, generator, reference)
        metrics.append({"kind": "step", "step": step, **row})
        if step % config.eval_interval == 0 or step == config.steps:
            accuracy = _evaluate(policy, tokenizer, held_out, train_sample, config)
            metrics.append({"kind": "eval", "step": step, **accuracy})
            logger.info("step %d: sampled reward %.3f, held-out accuracy %.3f, train accuracy %.3f", step,
                        row["reward"], accuracy["held_out_accuracy"], accuracy["train_accuracy"])

    # Step 5: outputs.
    summary = _summary(config, metrics.rows, before, accuracy, len(held_out), len(train_sample),
                       pretrained.final_val_loss, time.perf_counter() - started)
    _save_policy(policy, tokenizer, config, out_dir / POLICY_DIR)
    plot_rewards(metrics.rows, out_dir / PLOT_FILE)
    write_text_atomic(out_dir / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")
    logger.info("held-out accuracy %.3f -> %.3f after %d GRPO steps (%.0f s); outputs in %s",
                before["held_out_accuracy"], accuracy["held_out_accuracy"], config.steps, summary["seconds"], out_dir)
    return summary


def _evaluate(policy, tokenizer, held_out: list[Problem], train_sample: list[Problem],
              config: RLVRConfig) -> dict[str, float]:
    from gpt_from_scratch.rlvr import greedy_accuracy

    return {"held_out_accuracy": greedy_accuracy(policy, tokenizer, held_out, config.max_answer_tokens),
            "train_accuracy": greedy_accuracy(policy, tokenizer, train_sample, config.max_answer_tokens)}


def _summary(config: RLVRConfig, rows: list[dict[str, Any]], before: dict[str, float], after: dict[str, float],
             held_out: int, train_sample: int, pretrain_val_loss: float | None, seconds: float) -> dict[str, Any]:
    rewards = [row["reward"] for row in rows if row["kind"] == "step"]
    window = max(1, min(10, len(rewards) // 2))
    return {
        "accuracy_before": before,
        "accuracy_after": after,
        "held_out_problems": held_out,
        "train_sample_problems": train_sample,
        "sampled_reward_first_steps": sum(rewards[:window]) / window,
        "sampled_reward_last_steps": sum(rewards[-window:]) / window,
        "reward_window_steps": window,
        "pretrain_val_loss": pretrain_val_loss,
        "seconds": seconds,
        "config": dataclasses.asdict(config),
    }


def _save_policy(policy, tokenizer, config: RLVRConfig, policy_dir: Path) -> None:
    """Write the fine-tuned model as a checkpoint that ``sample`` and ``load_checkpoint`` read."""
    from gpt_from_scratch.checkpoint import CHECKPOINT_FILE, CHECKPOINT_FORMAT_VERSION, save_checkpoint

    payload = {
        "format_version": CHECKPOINT_FORMAT_VERSION,
        "model": policy.state_dict(),
        "model_config": dataclasses.asdict(policy.config),
        "train_config": config.pretrain_config().to_dict(),
        "iter": config.pretrain_iters,
        "rlvr_steps": config.steps,
        "tokenizer": tokenizer.to_spec(),
    }
    save_checkpoint(payload, policy_dir / CHECKPOINT_FILE)


def plot_rewards(rows: list[dict[str, Any]], path: Path) -> None:
    """Draw the sampled reward per GRPO step and the greedy accuracies into a PNG, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [row for row in rows if row["kind"] == "step"]
    evals = [row for row in rows if row["kind"] == "eval"]
    rewards = [row["reward"] for row in steps]
    window = max(1, min(10, len(rewards)))
    moving = [sum(rewards[max(0, i - window + 1):i + 1]) / len(rewards[max(0, i - window + 1):i + 1])
              for i in range(len(rewards))]

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([row["step"] for row in steps], rewards, color="tab:blue", alpha=0.3, linewidth=1,
            label="sampled reward (T = 1)")
    ax.plot([row["step"] for row in steps], moving, color="tab:blue", label=f"sampled reward, mean of {window} steps")
    ax.plot([row["step"] for row in evals], [row["held_out_accuracy"] for row in evals], "o-", color="tab:orange",
            label="held-out accuracy (greedy)")
    ax.plot([row["step"] for row in evals], [row["train_accuracy"] for row in evals], "s--", color="tab:green",
            label="train accuracy (greedy)")
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("reward / accuracy")
    ax.set_ylim(0, 1)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower center", ncol=2, fontsize=8)
    fig.tight_layout()

    save_figure(fig, path)



# ---------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="experiment folder for data/, pretrain/, policy/, metrics.jsonl, reward.png, summary.json")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny model and 4 GRPO steps, in seconds (for tests); other flags still apply")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar during pre-training (default: only when stderr is a terminal)")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="torch CPU threads (default: 1, because these tiny models gain little from more, and "
                             "the results change with the thread count)")
    group = parser.add_argument_group("experiment settings")
    for f in dataclasses.fields(RLVRConfig):
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata['help']} (default: {f.default})"
        if f.type == "bool":
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            value_type = {"int": int, "float": float}[f.type]
            group.add_argument(flag, dest=f.name, type=value_type, default=None, help=help_text,
                               metavar="N" if value_type is int else "X")


def config_from_args(args: argparse.Namespace) -> RLVRConfig:
    """Return the default (or quick) settings with the flags given on the command line applied."""
    base = QUICK if args.quick else RLVRConfig()
    changes = {f.name: getattr(args, f.name) for f in dataclasses.fields(RLVRConfig)
               if getattr(args, f.name) is not None}
    return dataclasses.replace(base, **changes)


def run(args: argparse.Namespace) -> int:
    from gpt_from_scratch.devices import set_threads

    config = config_from_args(args)
    set_threads(args.threads)
    summary = run_rlvr(config, args.out, device=args.device, progress=args.progress)
    before, after = summary["accuracy_before"], summary["accuracy_after"]
    print(f"held-out accuracy (greedy, {summary['held_out_problems']} problems): "
          f"{before['held_out_accuracy']:.3f} -> {after['held_out_accuracy']:.3f}")
    print(f"train accuracy (greedy, {summary['train_sample_problems']} problems): "
          f"{before['train_accuracy']:.3f} -> {after['train_accuracy']:.3f}")
    print(f"sampled reward: {summary['sampled_reward_first_steps']:.3f} (first {summary['reward_window_steps']} steps)"
          f" -> {summary['sampled_reward_last_steps']:.3f} (last {summary['reward_window_steps']} steps)")
    return 0
