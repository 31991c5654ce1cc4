"""Run outputs besides the checkpoint: ``metrics.jsonl`` rows and the ``loss.png`` learning curves.

``metrics.jsonl`` has one JSON object per line, of two kinds:

- ``{"kind": "step", "iter", "train_loss", "lr", "tokens_per_s", "ms_per_iter"}`` every ``log_interval``
  iterations, where ``train_loss`` is the mean cross-entropy of that iteration's micro-batches on rank 0.
  A mixture-of-experts model adds ``aux_loss``, the load-balancing loss averaged over the iterations since
  the previous row, and ``expert_usage``, one list per layer of the fraction of token-to-expert assignments
  that each expert received in those iterations;
- ``{"kind": "eval", "iter", "train_loss", "val_loss", "lr"}`` at each evaluation, with losses averaged
  over ``eval_iters`` batches per split.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.jsonl"
PLOT_FILE = "loss.png"


def make_output_dir(path: str | os.PathLike) -> Path:
    """Create the output folder ``path`` and its parents, raising GPTError when that fails (for example a file)."""
    from gpt_from_scratch.errors import GPTError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise GPTError(f"the output folder {path} is a file; pass another --out")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise GPTError(f"cannot create the output folder {path}: {error.strerror}; pass another --out") from None
    return path


class MetricsLog:
    """Append-only metrics file; on resume, rows from iterations after the checkpoint are dropped."""

    def __init__(self, out_dir: Path, resume_iter: int | None = None):
        self.path = out_dir / METRICS_FILE
        self.rows: list[dict[str, Any]] = []
        if resume_iter is not None and self.path.exists():
            self.rows = [row for row in read_metrics(self.path) if _kept_on_resume(row, resume_iter)]
        self._rewrite()

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")

    def _rewrite(self) -> None:
        write_text_atomic(self.path, "".join(json.dumps(row) + "\n" for row in self.rows))


def _kept_on_resume(row: dict[str, Any], resume_iter: int) -> bool:
    # The checkpoint of iteration N is written after N's evaluation and before N's training step.
    return row["iter"] < resume_iter or (row["iter"] == resume_iter and row.get("kind") == "eval")


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read metrics.jsonl, skipping a last line cut short by an interrupted write."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def plot_losses(rows: list[dict[str, Any]], path: str | os.PathLike, title: str = "") -> None:
    """Draw the train loss per step and the evaluated train/val losses into a PNG, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [row for row in rows if row.get("kind") == "step"]
    evals = [row for row in rows if row.get("kind") == "eval"]

    fig, ax = plt.subplots(figsize=(8, 5))
    if steps:
        ax.plot([r["iter"] for r in steps], [r["train_loss"] for r in steps],
                color="tab:blue", alpha=0.3, linewidth=1, label="train (batch)")
    if evals:
        ax.plot([r["iter"] for r in evals], [r["train_loss"] for r in evals],
                color="tab:blue", marker="o", label="train (eval)")
        ax.plot([r["iter"] for r in evals], [r["val_loss"] for r in evals],
                color="tab:orange", marker="o", label="val (eval)")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cross-entropy loss (nats per token)")
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()

    save_figure(fig, path, dpi=100)


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 90) -> None:
    """Save a matplotlib figure as PNG atomically (temporary file, then os.replace) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fig.savefig(temporary, format="png", dpi=dpi)
        os.replace(temporary, path)
    finally:
        plt.close(fig)
        temporary.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` through a temporary file, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
