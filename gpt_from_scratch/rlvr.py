"""GRPO-style policy gradients with a verifiable reward: sampling groups, advantages, the loss, accuracy.

The update follows GRPO (Shao et al., 2024, "DeepSeekMath: Pushing the Limits of Mathematical Reasoning in
Open Language Models"). For each prompt a group of answers is sampled, and the advantage of answer i is
(r_i - mean(r)) / std(r) over its group, so no value network is needed. The loss is -advantage * log pi(answer),
averaged over each answer's tokens and then over the answers, plus an optional KL penalty to a reference
model. GRPO's clipped probability ratio equals 1 when each batch gets a single gradient step, as in
``rlvr_experiment.py``, so the clipping drops out and the plain policy gradient remains.

Shapes in comments: rows = prompts * group_size sampled answers, M = max answer tokens, T = longest prompt
plus answer, V = vocab_size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gpt_from_scratch.addition import STOP, Problem, reward
from gpt_from_scratch.model import GPT
from gpt_from_scratch.sample import SamplingSettings, generate_ids
from gpt_from_scratch.tokenizers import Tokenizer


@torch.no_grad()
def sample_answers(model: GPT, prompt_ids: list[list[int]], group_size: int, max_new_tokens: int, temperature: float,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Sample ``group_size`` continuations of every prompt; returns (prompts * group_size, max_new_tokens).

    Rows come in prompt order, each prompt's group side by side. Prompts of one length are sampled as one
    batch, because the model has no padding mask to batch prompts of different lengths.
    """
    device = next(model.parameters()).device
    by_length: dict[int, list[int]] = defaultdict(list)
    for index, ids in enumerate(prompt_ids):
        by_length[len(ids)].append(index)

    answers = torch.zeros(len(prompt_ids) * group_size, max_new_tokens, dtype=torch.long, device=device)
    settings = SamplingSettings(temperature=temperature)
    for indices in by_length.values():
        batch = torch.tensor([prompt_ids[i] for i in indices for _ in range(group_size)], device=device)
        steps = list(generate_ids(model, batch, max_new_tokens, settings, generator))  # max_new_tokens x (rows,)
        rows = torch.tensor([i * group_size + g for i in indices for g in range(group_size)], device=device)
        answers[rows] = torch.stack(steps, dim=1)
    return answers


def answer_lengths(answers: torch.Tensor, stop_id: int) -> torch.Tensor:
    """Return the tokens of each answer up to and including its first stop token, or all of them: (rows,)."""
    is_stop = answers == stop_id  # (rows, M)
    first_stop = torch.where(is_stop.any(dim=1), is_stop.int().argmax(dim=1), answers.size(1) - 1)
    return first_stop + 1


def group_advantages(rewards: torch.Tensor, normalize: bool = True, eps: float = 1e-6) -> torch.Tensor:
    """Return each reward minus its group's mean, divided by the group's standard deviation if ``normalize``.

    ``rewards`` is (groups, group_size). A group whose answers all scored the same gets zero advantages:
    it carries no signal about which answer is better. The standard deviation is the population one.
    """
    advantages = rewards - rewards.mean(dim=1, keepdim=True)
    if normalize:
        advantages = advantages / (rewards.std(dim=1, keepdim=True, correction=0) + eps)
    return advantages


def answer_log_probs(model: GPT, prompt_ids: list[list[int]], answers: torch.Tensor,
                     lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return log pi(token) at every position (rows, T - 1) and the mask of the answer tokens among them.

    Row i is prompt i followed by the first ``lengths[i]`` tokens of answer i, right-padded to the longest
    row. Causal attention keeps the padding out of every real position, so one forward pass serves all rows.
    """
    device = answers.device
    totals = [len(ids) + int(n) for ids, n in zip(prompt_ids, lengths, strict=True)]
    sequences = torch.zeros(len(prompt_ids), max(totals), dtype=torch.long, device=device)  # (rows, T)
    mask = torch.zeros(len(prompt_ids), max(totals) - 1, dtype=torch.bool, device=device)  # (rows, T - 1)
    for row, (ids, total) in enumerate(zip(prompt_ids, totals, strict=True)):
        sequences[row, :len(ids)] = torch.tensor(ids, device=device)
        sequences[row, len(ids):total] = answers[row, :total - len(ids)]
        mask[row, len(ids) - 1:total - 1] = True  # position t predicts token t + 1

    logits, _ = model(sequences[:, :-1])  # (rows, T - 1, V)
    log_probs = F.log_softmax(logits.float(), dim=-1)
    token_log_probs = log_probs.gather(-1, sequences[:, 1:, None]).squeeze(-1)  # (rows, T - 1)
    return token_log_probs, mask


def policy_gradient_loss(token_log_probs: torch.Tensor, mask: torch.Tensor, advantages: torch.Tensor,
                         reference_log_probs: torch.Tensor | None = None,
                         kl_coef: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the GRPO loss and the mean KL estimate to the reference model (0 without one).

    Per token: -advantage * log pi + kl_coef * KL, where KL = exp(ref - log pi) - (ref - log pi) - 1 is the
    unbiased, always non-negative estimator that GRPO uses. Averaged over each answer's tokens, then over answers.
    """
    per_token = -advantages[:, None] * token_log_probs  # (rows, T - 1)
    kl = torch.zeros((), device=token_log_probs.device)
    if reference_log_probs is not None:
        log_ratio = reference_log_probs - token_log_probs
        kl_per_token = torch.exp(log_ratio) - log_ratio - 1.0
        per_token = per_token + kl_coef * kl_per_token
        kl = (kl_per_token * mask).sum() / mask.sum()
    per_answer = (per_token * mask).sum(dim=1) / mask.sum(dim=1)
    return per_answer.mean(), kl.detach()


def greedy_accuracy(model: GPT, tokenizer: Tokenizer, problems: list[Problem], max_answer_tokens: int) -> float:
    """Return the fraction of problems that greedy decoding (temperature 0) answers exactly."""
    device = next(model.parameters()).device
    by_length: dict[int, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_length[len(STOP + problem.prompt)].append(problem)
    correct = 0
    for group in by_length.values():
        prompts = torch.tensor([tokenizer.encode(STOP + p.prompt) for p in group], device=device)
        with torch.no_grad():
            steps = list(generate_ids(model, prompts, max_answer_tokens, SamplingSettings(temperature=0)))
        answers = torch.stack(steps, dim=1).tolist()
        correct += sum(reward(tokenizer.decode(ids), p) == 1.0 for ids, p in zip(answers, group, strict=True))
    return correct / len(problems)


@dataclass(frozen=True)
class GRPOSettings:
    """Sampling, scoring and weighting settings of one GRPO step."""

    group_size: int = 8  # answers sampled per prompt
    temperature: float = 1.0
    max_answer_tokens: int = 4
    normalize_advantage: bool = True
    kl_coef: float = 0.0
    format_reward: float = 0.0
    grad_clip: float = 1.0


def grpo_step(policy: GPT, optimizer: torch.optim.Optimizer, tokenizer: Tokenizer, problems: list[Problem],
              settings: GRPOSettings, generator: torch.Generator | None = None,
              reference: GPT | None = None) -> dict[str, float]:
    """Sample a group of answers per problem, score them and take one gradient step; return the step's statistics."""
    group_size = settings.group_size
    device = next(policy.parameters()).device
    prompt_ids = [tokenizer.encode(STOP + problem.prompt) for problem in problems]
    stop_id = tokenizer.encode(STOP)[0]

    answers = sample_answers(policy, prompt_ids, group_size, settings.max_answer_tokens, settings.temperature,
                             generator)  # (rows, M)
    lengths = answer_lengths(answers, stop_id)  # (rows,)
    texts = [tokenizer.decode(answers[row, :length].tolist()) for row, length in enumerate(lengths.tolist())]
    rewards = torch.tensor([reward(text, problems[row // group_size], settings.format_reward)
                            for row, text in enumerate(texts)], device=device).view(len(problems), group_size)
    advantages = group_advantages(rewards, settings.normalize_advantage).flatten()  # (rows,)

    row_prompt_ids = [ids for ids in prompt_ids for _ in range(group_size)]
    token_log_probs, mask = answer_log_probs(policy, row_prompt_ids, answers, lengths)
    reference_log_probs = None
    if reference is not None and settings.kl_coef > 0:
        with torch.no_grad():
            reference_log_probs, _ = answer_log_probs(reference, row_prompt_ids, answers, lengths)
    loss, kl = policy_gradient_loss(token_log_probs, mask, advantages, reference_log_probs, settings.kl_coef)

    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if settings.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(policy.parameters(), settings.grad_clip)
    optimizer.step()
    return {
        "reward": rewards.mean().item(),
        "correct": (rewards == 1.0).float().mean().item(),
        "groups_with_signal": (rewards.std(dim=1) > 0).float().mean().item(),  # groups with nonzero advantages
        "loss": loss.item(),
        "kl": kl.item(),
    }
