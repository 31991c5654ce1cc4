"""Scaling-law experiment: train GPTs of several sizes on one token budget and fit L(N) = E + A / N^alpha.

``python -m gpt_from_scratch scaling --data DIR --out DIR`` runs these steps:

1. train every size (and seed) with :func:`gpt_from_scratch.training.train` into ``OUT/<layers>x<width>-seed<S>/``,
   with the same iterations, batch and learning-rate schedule for all. A run that already finished with the
   same settings is reused, so an interrupted experiment continues where it stopped;
2. take each run's final validation loss and its non-embedding parameter count N (without the token and
   position embeddings, as Kaplan et al., 2020, "Scaling Laws for Neural Language Models", count it);
3. fit the law to the mean loss per size (``scaling_law.py``), with the standard error of alpha from the
   Jacobian and, with two or more seeds, from a bootstrap over seeds;
4. write ``scaling.json``, ``scaling.md`` (a table) and ``scaling.png`` (the fit on log-log axes) into OUT.

Every size is trained on the same number of tokens, so the larger models are further from convergence. The fit
describes loss against size at this fixed budget, not the compute-optimal frontier of Hoffmann et al. (2022).

This module imports torch only when an experiment runs, so that the command-line parser stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from gpt_from_scratch.config import TrainConfig
from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.metrics import save_figure, write_text_atomic
from gpt_from_scratch.scaling_law import MIN_POINTS, PowerLawFit, bootstrap_alpha, fit_power_law

logger = logging.getLogger(__name__)

RESULT_FILE = "scaling.json"
TABLE_FILE = "scaling.md"
PLOT_FILE = "scaling.png"
RUN_SUMMARY_FILE = "scaling_run.json"


@dataclass(frozen=True)
class ModelSize:
    """A model shape written ``LAYERSxWIDTH``, such as ``4x128``; the head count follows from the head size."""

    n_layer: int
    n_embd: int

    @property
    def name(self) -> str:
        return f"{self.n_layer}x{self.n_embd}"

    @classmethod
    def parse(cls, text: str) -> ModelSize:
        layers, sep, width = text.strip().partition("x")
        if not sep or not layers.isdigit() or not width.isdigit() or int(layers) < 1 or int(width) < 1:
            raise GPTError(f"invalid model size {text!r}; write LAYERSxWIDTH, such as 4x128")
        return cls(int(layers), int(width))


def parse_sizes(text: str) -> tuple[ModelSize, ...]:
    """Parse a comma-separated list such as ``2x32,2x64,4x128``."""
    return tuple(ModelSize.parse(part) for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class ScalingSetting:
    """The sizes to train and the training budget that they share."""

    sizes: tuple[ModelSize, ...]
    head_size: int  # n_head = n_embd / head_size
    max_iters: int
    batch_size: int
    block_size: int
    eval_iters: int
    learning_rate: float
    seeds: int = 1
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if len(set(self.sizes)) < MIN_POINTS:
            raise GPTError(f"the scaling fit needs at least {MIN_POINTS} different model sizes, got "
                           f"{len(set(self.sizes))}; pass more with --sizes")
        for size in self.sizes:
            if size.n_embd % self.head_size:
                raise GPTError(f"model size {size.name}: width {size.n_embd} is not a multiple of the head size "
                               f"{self.head_size}; choose widths that are, or another --head-size")
        if self.seeds < 1:
            raise GPTError(f"--seeds {self.seeds} is invalid; train at least 1 seed per size")
        self.train_config(self.sizes[0], 0)  # TrainConfig checks the remaining fields

    @property
    def tokens_per_model(self) -> int:
        return self.max_iters * self.batch_size * self.block_size

    def train_config(self, size: ModelSize, seed_index: int) -> TrainConfig:
        """Return the training settings of one size: only the shape and the seed differ between runs."""
        return TrainConfig(
            n_layer=size.n_layer, n_head=size.n_embd // self.head_size, n_embd=size.n_embd,
            block_size=self.block_size, dropout=self.dropout, batch_size=self.batch_size,
            learning_rate=self.learning_rate, min_lr=self.learning_rate / 10,
            warmup_iters=min(100, self.max_iters // 10), lr_decay_iters=max(1, self.max_iters),
            max_iters=self.max_iters, eval_interval=max(1, self.max_iters), eval_iters=self.eval_iters,
            log_interval=max(1, min(50, self.max_iters // 10)), seed=1337 + 1000 * seed_index,
        )


# The cpu preset took 18 minutes (1079 s of training and evaluation) with --threads 1 on a 2-core Xeon while
# other jobs were running. NOTE: a quiet machine should be faster, but that is an estimate, not a measurement.
# The gpu preset is a suggested larger setting that has not been run in this repository: its 16M tokens are
# 16 passes over Tiny Shakespeare, so check that no size's val loss rises at the end (overfitting).
PRESETS = {
    "cpu": ScalingSetting(sizes=parse_sizes("2x32,2x64,3x96,4x128,6x192"), head_size=32, max_iters=2000,
                          batch_size=12, block_size=64, eval_iters=200, learning_rate=2e-3, seeds=2),
    "gpu": ScalingSetting(sizes=parse_sizes("2x64,3x128,4x192,6x256,6x384"), head_size=64, max_iters=1000,
                          batch_size=64, block_size=256, eval_iters=200, learning_rate=1e-3),
    "quick": ScalingSetting(sizes=parse_sizes("1x16,1x32,2x32,2x48"), head_size=16, max_iters=30, batch_size=4,
                            block_size=16, eval_iters=4, learning_rate=3e-3),
}


@dataclass
class RunRecord:
    """The result of training one size with one seed."""

    size: str
    n_layer: int
    n_head: int
    n_embd: int
    params: int  # non-embedding parameters N
    seed: int
    val_loss: float
    train_loss: float
    seconds: float


# ---------------------------------------------------------------- the experiment


def run_scaling(setting: ScalingSetting, data_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                device: str = "auto", progress: bool | None = None) -> dict[str, Any]:
    """Train every size, fit the law and write the outputs; return the content of scaling.json."""
    from gpt_from_scratch.data import read_meta
    from gpt_from_scratch.metrics import make_output_dir

    read_meta(data_dir)  # a missing or invalid data folder fails before the first run
    out_dir = make_output_dir(out_dir)
    records: list[RunRecord] = []
    total = len(setting.sizes) * setting.seeds
    for seed_index in range(setting.seeds):
        for size in setting.sizes:
            logger.info("scaling run %d of %d: %s, seed %d, %s tokens", len(records) + 1, total, size.name,
                        seed_index, f"{setting.tokens_per_model:,}")
            records.append(_train_or_reuse(setting, size, seed_index, data_dir, out_dir, device, progress))

    result = summarize(setting, records)
    write_outputs(result, out_dir)
    fit = result["fit"]
    logger.info("fit: L(N) = %.3f + %.4g / N^%.3f; alpha = %s; outputs in %s", fit["E"], fit["A"], fit["alpha"],
                _alpha_text(result), out_dir)
    return result


def _train_or_reuse(setting: ScalingSetting, size: ModelSize, seed_index: int, data_dir: str | os.PathLike,
                    out_dir: Path, device: str, progress: bool | None) -> RunRecord:
    from gpt_from_scratch.metrics import read_metrics
    from gpt_from_scratch.training import train

    config = setting.train_config(size, seed_index)
    run_dir = out_dir / f"{size.name}-seed{seed_index}"
    summary_path = run_dir / RUN_SUMMARY_FILE
    if summary_path.is_file():
        saved = json.loads(summary_path.read_text(encoding="utf-8"))
        if saved.get("train_config") == config.to_dict():
            logger.info("reusing the finished run in %s", run_dir)
            return RunRecord(**saved["record"])

    started = time.perf_counter()
    result = train(config, data_dir, run_dir, device=device, progress=progress)
    if result.interrupted or result.final_val_loss is None:
        raise GPTError(f"the run in {run_dir} stopped early; run the scaling command again to continue")
    evals = [row for row in read_metrics(run_dir / "metrics.jsonl") if row["kind"] == "eval"]
    model = result.model
    record = RunRecord(size=size.name, n_layer=config.n_layer, n_head=config.n_head, n_embd=config.n_embd,
                       params=model.num_params() - model.transformer.wte.weight.numel(), seed=seed_index,
                       val_loss=result.final_val_loss, train_loss=evals[-1]["train_loss"],
                       seconds=time.perf_counter() - started)
    _write_json(summary_path, {"train_config": config.to_dict(), "record": asdict(record)})
    logger.info("%s: val loss %.4f, %s non-embedding parameters, %.0f s", size.name, record.val_loss,
                f"{record.params:,}", record.seconds)
    return record


def summarize(setting: ScalingSetting, records: list[RunRecord]) -> dict[str, Any]:
    """Fit the law to the mean val loss per size and return the JSON-ready result."""
    names = list(dict.fromkeys(record.size for record in records))
    by_size = {name: [r for r in records if r.size == name] for name in names}
    params = np.array([by_size[name][0].params for name in names], dtype=float)
    mean_loss = np.array([np.mean([r.val_loss for r in by_size[name]]) for name in names])
    fit = fit_power_law(params, mean_loss)

    bootstrap = None
    if setting.seeds >= 2:
        losses = [[r.val_loss for r in by_size[name]] for name in names]
        mean, std = bootstrap_alpha(params, losses)
        bootstrap = {"alpha_mean": mean, "alpha_std": std, "rounds": 1000}

    sizes = []
    for name, n, loss in zip(names, params, mean_loss, strict=True):
        runs = by_size[name]
        sizes.append({"size": name, "n_layer": runs[0].n_layer, "n_head": runs[0].n_head, "n_embd": runs[0].n_embd,
                      "params": int(n), "val_loss": float(loss),
                      "val_loss_std": float(np.std([r.val_loss for r in runs], ddof=1)) if len(runs) > 1 else None,
                      "fitted_loss": float(fit.predict(n)), "seconds": float(sum(r.seconds for r in runs))})
    setting_dict = asdict(setting)
    setting_dict["sizes"] = [size.name for size in setting.sizes]
    setting_dict["tokens_per_model"] = setting.tokens_per_model
    return {"setting": setting_dict, "sizes": sizes, "runs": [asdict(r) for r in records], "fit": fit.to_dict(),
            "bootstrap": bootstrap, "fit_is_decreasing": bool(fit.A > 0 and fit.alpha > 0)}


def _alpha_text(result: dict[str, Any]) -> str:
    fit = result["fit"]
    stderr = fit["alpha_stderr"]
    text = f"{fit['alpha']:.3f} ± {stderr:.3f} (1 sigma, Jacobian)" if stderr is not None else f"{fit['alpha']:.3f}"
    if result["bootstrap"]:
        text += f", ± {result['bootstrap']['alpha_std']:.3f} (bootstrap over seeds)"
    return text


# ---------------------------------------------------------------- outputs


def write_outputs(result: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(out_dir / RESULT_FILE, result)
    write_text_atomic(out_dir / TABLE_FILE, markdown_table(result))
    plot_fit(result, out_dir / PLOT_FILE)


def markdown_table(result: dict[str, Any]) -> str:
    """Return the sizes, losses and fit as a Markdown page."""
    setting, fit = result["setting"], result["fit"]
    lines = [
        "# Scaling law: validation loss against model size",
        "",
        f"Each model: {setting['max_iters']:,} iterations of {setting['batch_size']} x {setting['block_size']} "
        f"tokens = {setting['tokens_per_model']:,} tokens, peak learning rate {setting['learning_rate']:g} "
        f"with cosine decay, {setting['seeds']} seed(s) per size.",
        "",
        "| model | layers | heads | width | N (non-embedding) | tokens / N | val loss | fit | residual |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in result["sizes"]:
        loss = f"{size['val_loss']:.4f}"
        if size["val_loss_std"] is not None:
            loss += f" ± {size['val_loss_std']:.4f}"
        lines.append(f"| {size['size']} | {size['n_layer']} | {size['n_head']} | {size['n_embd']} | "
                     f"{size['params']:,} | {setting['tokens_per_model'] / size['params']:.1f} | {loss} | "
                     f"{size['fitted_loss']:.4f} | {size['val_loss'] - size['fitted_loss']:+.4f} |")
    lines += [
        "",
        f"Fit: L(N) = E + A / N^alpha with E = {fit['E']:.4f}, A = {fit['A']:.4g}, alpha = {_alpha_text(result)}.",
        "",
    ]
    if fit["E"] < 0:
        lines += ["NOTE: E < 0 is not a possible loss: the sizes do not reach the flat part of the curve, "
                  "so E (and with it alpha) is poorly determined.", ""]
    if not result["fit_is_decreasing"]:
        lines += ["NOTE: the fitted curve does not decrease with N, so alpha has no scaling-law meaning here "
                  "(too few iterations, or the sizes overfit).", ""]
    return "\n".join(lines)


def plot_fit(result: dict[str, Any], path: Path) -> None:
    """Draw the losses and the fit against log N (left), and L - E against N on log-log axes (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fit = PowerLawFit(**{k: (math.nan if v is None else v) for k, v in result["fit"].items()})
    params = np.array([size["params"] for size in result["sizes"]], dtype=float)
    loss = np.array([size["val_loss"] for size in result["sizes"]])
    spread = np.array([size["val_loss_std"] or 0.0 for size in result["sizes"]])
    curve_n = np.geomspace(params.min() / 1.5, params.max() * 1.5, 200)

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    left.errorbar(params, loss, yerr=spread, fmt="o", color="tab:blue", label="final val loss")
    left.plot(curve_n, fit.predict(curve_n), color="tab:orange", label=f"fit, alpha = {fit.alpha:.3f}")
    left.axhline(fit.E, color="gray", linestyle="--", linewidth=1, label=f"E = {fit.E:.3f}")
    left.set_xscale("log")
    left.set_xlabel("non-embedding parameters N")
    left.set_ylabel("validation loss (nats per token)")
    left.legend()

    above = loss - fit.E > 0
    right.plot(params[above], (loss - fit.E)[above], "o", color="tab:blue", label="val loss - E")
    right.plot(curve_n, fit.A * curve_n**-fit.alpha, color="tab:orange", label="A / N^alpha")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("non-embedding parameters N")
    right.set_ylabel("reducible loss L - E")
    right.legend()
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(f"L(N) = E + A / N^alpha, alpha = {_alpha_text(result)}", fontsize=10)
    fig.tight_layout()

    save_figure(fig, path)



def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, metavar="DIR",
                        help="prepared data folder from the prepare command (for example Tiny Shakespeare, char)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="experiment folder: one run folder per size, plus scaling.json, .md and .png")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu",
                        help="cpu: 5 sizes from 25k to 2.7M parameters, 1.5M tokens each, 2 seeds (18 minutes "
                             "on 2 busy CPU cores); gpu: 5 sizes up to 10.6M parameters, 16M tokens each "
                             "(not run here); quick: 4 tiny sizes in seconds, for tests (default: cpu)")
    parser.add_argument("--sizes", metavar="LIST", help="comma-separated LAYERSxWIDTH shapes, such as 2x32,4x128")
    parser.add_argument("--head-size", type=int, metavar="N", help="width of one attention head")
    parser.add_argument("--max-iters", type=int, metavar="N", help="training iterations of every size")
    parser.add_argument("--batch-size", type=int, metavar="N", help="sequences per iteration")
    parser.add_argument("--block-size", type=int, metavar="N", help="context length in tokens")
    parser.add_argument("--eval-iters", type=int, metavar="N", help="batches in the final validation loss")
    parser.add_argument("--lr", type=float, metavar="X", dest="learning_rate", help="peak learning rate")
    parser.add_argument("--seeds", type=int, metavar="N",
                        help="training seeds per size; 2 or more add a bootstrap error of alpha "
                             "(default: 2 in the cpu preset, else 1)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    parser.add_argument("--threads", type=int, metavar="N", help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar for each run (default: only when stderr is a terminal)")


def setting_from_args(args: argparse.Namespace) -> ScalingSetting:
    """Return the preset with the options given on the command line applied."""
    changes = {name: getattr(args, name) for name in ("head_size", "max_iters", "batch_size", "block_size",
                                                       "eval_iters", "learning_rate", "seeds")
               if getattr(args, name) is not None}
    if args.sizes:
        changes["sizes"] = parse_sizes(args.sizes)
    return replace(PRESETS[args.preset], **changes)


def run(args: argparse.Namespace) -> int:
    from gpt_from_scratch.devices import set_threads

    setting = setting_from_args(args)
    set_threads(args.threads)
    result = run_scaling(setting, args.data, args.out, device=args.device, progress=args.progress)
    print(markdown_table(result))
    return 0
