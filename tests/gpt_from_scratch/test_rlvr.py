"""RLVR tests: the addition task and its reward, group advantages, the policy-gradient update, and a quick run."""

from __future__ import annotations

import json

import pytest
import torch

from gpt_from_scratch.addition import Problem, corpus_text, reward, split_problems
from gpt_from_scratch.checkpoint import load_checkpoint
from gpt_from_scratch.cli import main
from gpt_from_scratch.model import GPT, GPTConfig
from gpt_from_scratch.rlvr import (
    GRPOSettings,
    answer_lengths,
    answer_log_probs,
    group_advantages,
    grpo_step,
    policy_gradient_loss,
)
from gpt_from_scratch.tokenizers import CharTokenizer

TOKENIZER = CharTokenizer("0123456789+=\n")


def tiny_policy(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=TOKENIZER.vocab_size, block_size=16, n_layer=1, n_head=2, n_embd=16))


def encode_answers(texts: list[str], width: int = 4) -> torch.Tensor:
    """Encode answers as rows of ``width`` tokens, padded with zeros after the text."""
    rows = [TOKENIZER.encode(text) + [0] * (width - len(text)) for text in texts]
    return torch.tensor(rows)


# ---------------------------------------------------------------- task and reward


def test_problem_text():
    problem = Problem(23, 45)
    assert (problem.prompt, problem.answer, problem.line) == ("23+45=", "68", "23+45=68\n")


@pytest.mark.parametrize(("completion", "expected"), [
    ("68\n", 1.0),
    ("68\n12", 1.0),  # text after the newline is not part of the answer
    ("69\n", 0.0),
    ("68", 0.0),  # never stopped
    ("068\n", 0.0),  # leading zero
    ("6a\n", 0.0),
    ("\n", 0.0),
    ("-68\n", 0.0),
    ("6 8\n", 0.0),
    ("1000\n", 0.0),
], ids=["right", "right-then-more", "wrong", "no-newline", "leading-zero", "letter", "empty", "sign", "space",
        "four-digits"])
def test_reward_cases(completion, expected):
    assert reward(completion, Problem(23, 45)) == expected


def test_reward_partial_credit_for_format():
    assert reward("69\n", Problem(23, 45), format_reward=0.1) == 0.1
    assert reward("6a\n", Problem(23, 45), format_reward=0.1) == 0.0


def test_split_problems_disjoint():
    train, held_out = split_problems(0.1, seed=0)
    assert (len(train), len(held_out)) == (9000, 1000)
    assert not set(train) & set(held_out)
    assert split_problems(0.1, seed=0) == (train, held_out)


def test_corpus_one_line_per_problem():
    assert corpus_text([Problem(1, 2), Problem(50, 50)]) == "1+2=3\n50+50=100\n"


# ---------------------------------------------------------------- advantages and lengths


def test_group_advantages_normalized():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    expected = torch.tensor([[1.0, -1.0, -1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    torch.testing.assert_close(group_advantages(rewards), expected, atol=1e-5, rtol=0)


def test_group_advantages_baseline_only():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    expected = torch.tensor([[0.75, -0.25, -0.25, -0.25]])
    torch.testing.assert_close(group_advantages(rewards, normalize=False), expected)


def test_answer_lengths_stop_at_newline():
    answers = encode_answers(["68\n1", "7\n\n\n", "1234"])
    assert answer_lengths(answers, TOKENIZER.encode("\n")[0]).tolist() == [3, 2, 4]


def test_answer_log_probs_match_single_forward():
    policy = tiny_policy().eval()
    prompts = [TOKENIZER.encode("\n2+3="), TOKENIZER.encode("\n23+45=")]
    answers = encode_answers(["5\n", "68\n"])
    lengths = torch.tensor([2, 3])
    with torch.no_grad():
        token_log_probs, mask = answer_log_probs(policy, prompts, answers, lengths)
        sequence = torch.tensor([TOKENIZER.encode("\n23+45=68\n")])
        logits, _ = policy(sequence[:, :-1])
        expected = logits.log_softmax(-1).gather(-1, sequence[:, 1:, None]).squeeze(-1)[0, -3:]

    assert mask.sum(dim=1).tolist() == [2, 3]
    torch.testing.assert_close(token_log_probs[1][mask[1]], expected)


# ---------------------------------------------------------------- the update


def answer_log_prob_sums(policy: GPT, prompt: str, answers: list[str]) -> torch.Tensor:
    prompts = [TOKENIZER.encode(prompt)] * len(answers)
    lengths = torch.tensor([len(text) for text in answers])
    token_log_probs, mask = answer_log_probs(policy, prompts, encode_answers(answers), lengths)
    return (token_log_probs * mask).sum(dim=1)


def test_update_raises_rewarded_lowers_penalised():
    policy = tiny_policy()
    answers = ["68\n", "59\n"]
    rewards = torch.tensor([[reward(text, Problem(23, 45)) for text in answers]])
    before = answer_log_prob_sums(policy, "\n23+45=", answers).detach()

    optimizer = torch.optim.SGD(policy.parameters(), lr=0.05)
    prompts = [TOKENIZER.encode("\n23+45=")] * 2
    token_log_probs, mask = answer_log_probs(policy, prompts, encode_answers(answers), torch.tensor([3, 3]))
    loss, _ = policy_gradient_loss(token_log_probs, mask, group_advantages(rewards).flatten())
    loss.backward()
    optimizer.step()
    after = answer_log_prob_sums(policy, "\n23+45=", answers).detach()

    assert after[0] > before[0]  # rewarded: 68 is the sum
    assert after[1] < before[1]  # penalised


def test_kl_zero_against_itself():
    policy = tiny_policy()
    prompts = [TOKENIZER.encode("\n1+1=")] * 2
    token_log_probs, mask = answer_log_probs(policy, prompts, encode_answers(["2\n", "3\n"]), torch.tensor([2, 2]))
    _, kl = policy_gradient_loss(token_log_probs, mask, torch.zeros(2), token_log_probs.detach(), kl_coef=0.1)
    assert kl.item() == pytest.approx(0.0, abs=1e-7)


def test_grpo_step_statistics():
    policy = tiny_policy()
    optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-3)
    problems = [Problem(1, 2), Problem(23, 45), Problem(99, 99)]  # three prompt lengths
    stats = grpo_step(policy, optimizer, TOKENIZER, problems, GRPOSettings(group_size=4, kl_coef=0.1),
                      torch.Generator().manual_seed(0), reference=tiny_policy())
    assert set(stats) == {"reward", "correct", "groups_with_signal", "loss", "kl"}
    assert 0.0 <= stats["reward"] <= 1.0
    assert stats["kl"] >= 0.0


# ---------------------------------------------------------------- the quick experiment


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rlvr") / "out"
    assert main(["rlvr", "--out", str(out), "--quick", "--device", "cpu", "--kl-coef", "0.05"]) == 0
    return out


def test_quick_run_outputs(quick_run):
    for name in ("metrics.jsonl", "reward.png", "summary.json", "policy/ckpt.pt", "pretrain/ckpt.pt"):
        assert (quick_run / name).is_file(), name


def test_quick_run_summary(quick_run):
    summary = json.loads((quick_run / "summary.json").read_text())
    assert summary["held_out_problems"] == 1000
    assert 0.0 <= summary["accuracy_after"]["held_out_accuracy"] <= 1.0
    assert summary["config"]["steps"] == 4


def test_quick_run_metrics(quick_run):
    rows = [json.loads(line) for line in (quick_run / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows if row["kind"] == "step"] == [1, 2, 3, 4]
    assert [row["step"] for row in rows if row["kind"] == "eval"] == [0, 2, 4]


def test_quick_policy_loads_for_sampling(quick_run, capsys):
    assert load_checkpoint(quick_run / "policy", device="cpu").tokenizer.vocab_size == 13
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(quick_run / "policy"), "--prompt", "\n12+34=", "--max-new-tokens",
                 "4", "--temperature", "0"]) == 0
    assert capsys.readouterr().out.startswith("\n12+34=")


@pytest.mark.parametrize(("extra", "expected"), [
    (["--group-size", "1"], "group_size=1 is invalid"),
    (["--temperature", "0"], "temperature=0.0 is invalid"),
    (["--format-reward", "1.5"], "format_reward=1.5 is invalid"),
    (["--block-size", "8"], "block_size=8 is too small"),
    (["--held-out-fraction", "1"], "held_out_fraction=1.0 is invalid"),
], ids=["group-of-one", "zero-temperature", "format-reward", "block-size", "held-out"])
def test_cli_invalid_settings(extra, expected, tmp_path, capsys):
    capsys.readouterr()
    assert main(["rlvr", "--out", str(tmp_path / "out"), "--quick", *extra]) == 2
    assert expected in capsys.readouterr().err


def test_cli_output_is_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("not a folder")
    capsys.readouterr()
    assert main(["rlvr", "--out", str(tmp_path / "taken"), "--quick"]) == 2
    assert f"the output folder {tmp_path / 'taken'} is a file" in capsys.readouterr().err
