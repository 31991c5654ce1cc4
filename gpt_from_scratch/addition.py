"""Two-digit addition as a task with a verifiable reward: the model reads ``23+45=`` and must write ``68``.

Every problem ``a+b`` with 0 <= a, b <= 99 is one line ``a+b=sum`` of the corpus, and a program checks
an answer exactly, which is what RLVR (reinforcement learning with verifiable rewards) needs: no reward
model, no human labels.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from gpt_from_scratch.errors import GPTError

MAX_OPERAND = 99
STOP = "\n"  # ends every answer, and every line of the corpus
# A canonical non-negative integer: no sign, no leading zero, at most 3 digits (99 + 99 = 198).
_WELL_FORMED_ANSWER = re.compile(r"0|[1-9][0-9]{0,2}")


@dataclass(frozen=True)
class Problem:
    """The problem ``a+b=``."""

    a: int
    b: int

    @property
    def prompt(self) -> str:
        return f"{self.a}+{self.b}="

    @property
    def answer(self) -> str:
        return str(self.a + self.b)

    @property
    def line(self) -> str:
        """The problem with its answer, as a line of the pre-training corpus."""
        return f"{self.prompt}{self.answer}{STOP}"


def split_problems(held_out_fraction: float, seed: int) -> tuple[list[Problem], list[Problem]]:
    """Shuffle all 10,000 problems and return (train, held_out); held-out problems never appear in training."""
    if not 0.0 < held_out_fraction < 1.0:
        raise GPTError(f"held-out fraction {held_out_fraction} is invalid; use a value between 0 and 1, such as 0.1")
    problems = [Problem(a, b) for a in range(MAX_OPERAND + 1) for b in range(MAX_OPERAND + 1)]
    random.Random(seed).shuffle(problems)
    held_out = round(len(problems) * held_out_fraction)
    return problems[held_out:], problems[:held_out]


def corpus_text(problems: list[Problem]) -> str:
    """Return the pre-training corpus: one line per problem, in the given order."""
    return "".join(problem.line for problem in problems)


def reward(completion: str, problem: Problem, format_reward: float = 0.0) -> float:
    """Score a sampled completion: 1 for the right sum, ``format_reward`` for a wrong but well-formed one, else 0.

    The answer is the text before the first newline. A completion without a newline (the model did not
    stop) or whose answer is not a canonical integer, such as ``068``, ``6a`` or an empty string, is
    malformed and scores 0.
    """
    answer, stop, _ = completion.partition(STOP)
    if not stop or not _WELL_FORMED_ANSWER.fullmatch(answer):
        return 0.0
    return 1.0 if answer == problem.answer else format_reward
