"""Training loop: AdamW with warm-up and cosine decay, evaluation, checkpoints, exact resume, DDP.

One call of :func:`train` runs these steps:

1. join the process group when launched by torchrun, and pick the device;
2. open the prepared data folder and its tokenizer;
3. build the model: from scratch, from the run's own checkpoint (``resume``) or from another
   run's checkpoint (``init_from``);
4. build the optimizer, the gradient scaler, torch.compile and DistributedDataParallel wrappers;
5. loop: evaluate and checkpoint every ``eval_interval`` iterations, otherwise take an optimizer
   step over ``gradient_accumulation_steps`` micro-batches;
6. evaluate, checkpoint and plot once more at ``max_iters``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import logging
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from gpt_from_scratch.batches import TokenBatches
from gpt_from_scratch.checkpoint import (
    CHECKPOINT_FILE,
    CHECKPOINT_FORMAT_VERSION,
    capture_rng_state,
    checkpoint_path,
    read_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from gpt_from_scratch.config import ARCHITECTURE_FIELDS, TrainConfig
from gpt_from_scratch.data import load_tokens, read_meta
from gpt_from_scratch.devices import autocast_context, enable_tf32, resolve_dtype
from gpt_from_scratch.distributed import (
    DistributedContext,
    all_gather_objects,
    setup_distributed,
    shutdown_distributed,
)
from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.evaluation import StopRequest, estimate_loss
from gpt_from_scratch.metrics import PLOT_FILE, MetricsLog, make_output_dir, plot_losses
from gpt_from_scratch.model import GPT, GPTConfig
from gpt_from_scratch.moe import ExpertUsage
from gpt_from_scratch.optim import build_optimizer, learning_rate_at
from gpt_from_scratch.tokenizers import tokenizer_from_spec

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"


@dataclass
class TrainResult:
    """Result of a finished or interrupted run."""

    model: GPT
    out_dir: Path
    iteration: int  # iterations completed
    best_val_loss: float
    final_val_loss: float | None  # None when the run was interrupted before its last evaluation
    interrupted: bool = False


def train(config: TrainConfig, data_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
          device: str = "auto", resume: bool = False, init_from: str | os.PathLike | None = None,
          progress: bool | None = None) -> TrainResult:
    """Train a GPT on the prepared ``data_dir`` and write the run into ``out_dir``; see the module docstring.

    ``progress`` shows a tqdm bar (default: only when stderr is a terminal). Launched by torchrun, each
    process calls this function, and rank 0 alone writes files.
    """
    if resume and init_from is not None:
        raise GPTError("--resume and --init-from exclude each other: resume continues --out's own checkpoint")
    context, torch_device = setup_distributed(device)
    trainer = None
    try:
        trainer = _Trainer(config, Path(data_dir), Path(out_dir), context, torch_device, resume, init_from)
        return trainer.run(progress)
    finally:
        if trainer is not None:
            # Free the DDP wrapper and its gradient reducer while the process group exists: when the garbage
            # collector freed them after destroy_process_group, a Gloo rank hung (torch 2.13, CPU).
            trainer.train_model = trainer.model = None
            del trainer
            gc.collect()
        shutdown_distributed(context)


class _Trainer:
    """State of one training run; see the steps in the module docstring."""

    def __init__(self, config: TrainConfig, data_dir: Path, out_dir: Path, context: DistributedContext,
                 device: torch.device, resume: bool, init_from: str | os.PathLike | None):
        self.context = context
        self.device = device
        self.out_dir = out_dir
        self.data_dir = data_dir
        self.dtype = resolve_dtype(config.dtype, device)
        enable_tf32(device)

        # Step 2: data and tokenizer.
        meta = read_meta(data_dir)
        self.tokenizer_spec = meta["tokenizer"]
        tokenizer = tokenizer_from_spec(self.tokenizer_spec)
        train_tokens = load_tokens(data_dir, "train")
        val_tokens = load_tokens(data_dir, "val")

        # Step 3: the starting point.
        self.start_iter = 0
        self.evaluated_iter = -1
        self.best_val_loss = float("inf")
        checkpoint = None
        if resume:
            checkpoint = self._read_own_checkpoint(config)
        elif init_from is not None:
            checkpoint = read_checkpoint(init_from)
            self._check_same_tokenizer(checkpoint, "--init-from")
            config = self._config_with_architecture_of(config, checkpoint)
        self.config = config

        # Training batches differ per rank; evaluation batches restart from fixed seeds at each evaluation.
        rank = context.rank
        block, batch = config.block_size, config.batch_size
        self.train_batches = TokenBatches(train_tokens, block, batch, device, config.seed + rank, "train")
        self.eval_splits = {
            "train": TokenBatches(train_tokens, block, batch, device, config.seed + 10_000 + rank, "train"),
            "val": TokenBatches(val_tokens, block, batch, device, config.seed + 20_000 + rank, "val"),
        }

        torch.manual_seed(config.seed)
        self.raw_model = GPT(config.model_config(tokenizer.vocab_size))
        if checkpoint is not None:
            self.raw_model.load_state_dict(checkpoint["model"])
        self.raw_model.to(device)
        random.seed(config.seed + rank)
        np.random.seed(config.seed + rank)
        torch.manual_seed(config.seed + rank)  # each rank draws its own dropout masks

        # Step 4: optimizer, scaler, compile and DDP.
        self.optimizer = build_optimizer(self.raw_model, config, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.dtype == torch.float16)
        self.model: torch.nn.Module = torch.compile(self.raw_model) if config.compile else self.raw_model
        self.train_model: torch.nn.Module = self.model
        if context.is_distributed:
            device_ids = [device.index] if device.type == "cuda" else None
            self.train_model = DistributedDataParallel(self.model, device_ids=device_ids)

        if resume:
            self._restore_training_state(checkpoint)

        self.tokens_per_iter = batch * block * config.gradient_accumulation_steps * context.world_size
        self.expert_usage = ExpertUsage(self.raw_model.moe_layers())  # statistics for the log, on rank 0
        if context.is_main:
            self._write_run_config(tokenizer, resume, init_from)
            self.metrics = MetricsLog(out_dir, resume_iter=self.start_iter if resume else None)
            logger.info("model: %.2fM parameters (without position embeddings), %s attention; device %s, %s; "
                        "%d tokens per iteration over %d process(es)", self.raw_model.num_params() / 1e6,
                        config.attention, device, str(self.dtype).removeprefix("torch."), self.tokens_per_iter,
                        context.world_size)
            if config.n_experts > 0:
                logger.info("mixture of experts: %d experts of width %d, top-%d routing, %.2fM active parameters "
                            "per token, load-balancing loss weight %g", config.n_experts,
                            self.raw_model.config.expert_hidden_size, config.expert_top_k,
                            self.raw_model.num_active_params() / 1e6, config.moe_aux_loss_weight)

    # ---------------------------------------------------------------- set-up helpers

    def _read_own_checkpoint(self, config: TrainConfig) -> dict[str, Any]:
        path = self.out_dir / CHECKPOINT_FILE
        if not path.is_file():
            raise GPTError(f"nothing to resume: {path} not found; drop --resume to start a new run in {self.out_dir}")
        checkpoint = read_checkpoint(path)
        self._check_same_tokenizer(checkpoint, "--resume")
        # A checkpoint written before a field existed has that field's default value.
        saved = {**TrainConfig().to_dict(), **checkpoint["train_config"]}
        for name in ARCHITECTURE_FIELDS:
            if saved[name] != getattr(config, name):
                raise GPTError(f"cannot change {name} from {saved[name]} to {getattr(config, name)} when resuming "
                               f"{path}; drop that option, or start a new run in another --out folder")
        if checkpoint["iter"] >= config.max_iters:
            raise GPTError(f"{path} is already at iteration {checkpoint['iter']}, which is not below max_iters "
                           f"{config.max_iters}; pass a larger --max-iters to train further")
        return checkpoint

    def _check_same_tokenizer(self, checkpoint: dict[str, Any], option: str) -> None:
        if checkpoint["tokenizer"] == self.tokenizer_spec:
            return
        theirs = tokenizer_from_spec(checkpoint["tokenizer"])
        ours = tokenizer_from_spec(self.tokenizer_spec)
        raise GPTError(
            f"{option} {checkpoint['path']} uses a {theirs.name} tokenizer with {theirs.vocab_size} tokens, but "
            f"{self.data_dir} was prepared with a different {ours.name} tokenizer ({ours.vocab_size} tokens); "
            "token ids must mean the same in both: prepare the data with the checkpoint's tokenizer "
            "(for example --tokenizer gpt2 for both) or train a new model from scratch"
        )

    def _config_with_architecture_of(self, config: TrainConfig, checkpoint: dict[str, Any]) -> TrainConfig:
        saved = dataclasses.asdict(GPTConfig(**checkpoint["model_config"]))  # fills fields added since
        changes = {name: saved[name] for name in ARCHITECTURE_FIELDS if saved[name] != getattr(config, name)}
        if changes:
            logger.info("--init-from: the model shape comes from the checkpoint: %s", changes)
        return dataclasses.replace(config, **changes)

    def _restore_training_state(self, checkpoint: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if checkpoint.get("scaler"):
            self.scaler.load_state_dict(checkpoint["scaler"])
        self.start_iter = checkpoint["iter"]
        self.evaluated_iter = checkpoint.get("evaluated_iter", -1)
        self.best_val_loss = checkpoint.get("best_val_loss", float("inf"))
        rng_states = checkpoint.get("rng", [])
        if len(rng_states) == self.context.world_size:
            restore_rng_state(rng_states[self.context.rank], self.train_batches.generator)
        else:
            # NOTE: a resume with another number of processes cannot replay the same batches. The new
            # seeds differ from the first run's, so that no batch sequence starts over.
            logger.warning("checkpoint has RNG states of %d process(es) but this run has %d; batches and dropout "
                           "masks are reseeded", len(rng_states), self.context.world_size)
            reseed = self.config.seed + self.context.rank + 1_000_000 * self.start_iter
            self.train_batches.generator.manual_seed(reseed)
            torch.manual_seed(reseed)
        logger.info("resuming %s at iteration %d (best val loss %.4f)", checkpoint["path"], self.start_iter,
                    self.best_val_loss)

    def _write_run_config(self, tokenizer: Any, resume: bool, init_from: str | os.PathLike | None) -> None:
        make_output_dir(self.out_dir)
        if not resume and (self.out_dir / CHECKPOINT_FILE).exists():
            logger.warning("overwriting the run in %s (pass --resume to continue it instead)", self.out_dir)
        run_config = {
            "train": self.config.to_dict(),
            "model": dataclasses.asdict(self.raw_model.config),
            "data_dir": str(self.data_dir),
            "tokenizer": {"name": tokenizer.name, "vocab_size": tokenizer.vocab_size},
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "world_size": self.context.world_size,
            "tokens_per_iter": self.tokens_per_iter,
            "num_params": self.raw_model.num_params(),
            "num_active_params": self.raw_model.num_active_params(),
            "init_from": str(checkpoint_path(init_from)) if init_from is not None else None,
            "resumed_at": self.start_iter if resume else None,
            "torch_version": torch.__version__,
        }
        path = self.out_dir / CONFIG_FILE
        temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        temporary.write_text(json.dumps(run_config, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)

    # ---------------------------------------------------------------- the loop

    def run(self, progress: bool | None) -> TrainResult:
        config, is_main = self.config, self.context.is_main
        show_bar = is_main and (sys.stderr.isatty() if progress is None else progress)
        bar = tqdm(total=config.max_iters, initial=self.start_iter, disable=not show_bar, unit="it",
                   dynamic_ncols=True, desc="train")
        redirect = logging_redirect_tqdm() if show_bar else contextlib.nullcontext()
        stop = StopRequest()
        # With several processes a signal may reach the ranks at different iterations, so Ctrl-C just aborts.
        stop_handler = stop if not self.context.is_distributed else contextlib.nullcontext()
        final_val_loss = None
        iteration = self.start_iter
        with bar, redirect, stop_handler:
            window_start, window_iters = time.perf_counter(), 0
            for iteration in range(self.start_iter, config.max_iters + 1):
                is_last = iteration == config.max_iters
                if (iteration % config.eval_interval == 0 or is_last) and iteration != self.evaluated_iter:
                    losses = self._evaluate(iteration)
                    final_val_loss = losses["val"] if is_last else None
                    if iteration > 0 or is_last:
                        self._save(iteration)
                    window_start, window_iters = time.perf_counter(), 0  # leave evaluation out of tokens/s
                if is_last:
                    break
                if stop.requested:
                    self._save(iteration)
                    logger.warning("stopped at iteration %d; continue with --resume", iteration)
                    return self._result(iteration, None, interrupted=True)

                step_loss, lr = self._train_step(iteration)
                window_iters += 1
                bar.update(1)
                if (iteration + 1) % config.log_interval == 0 and is_main:
                    elapsed = time.perf_counter() - window_start
                    self._log_step(iteration, step_loss.item(), lr, elapsed, window_iters, bar)
                    window_start, window_iters = time.perf_counter(), 0
        return self._result(iteration, final_val_loss)

    def _train_step(self, iteration: int) -> tuple[torch.Tensor, float]:
        """Run one optimizer step and return the mean micro-batch cross-entropy (a tensor, to avoid a sync) and the lr.

        For a mixture of experts, the minimised loss adds ``moe_aux_loss_weight`` times the load-balancing loss.
        The returned cross-entropy leaves it out, so that it compares with a dense model's.
        """
        config = self.config
        lr = learning_rate_at(iteration, config)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

        accumulation = config.gradient_accumulation_steps
        step_loss = torch.zeros((), device=self.device)
        for micro_step in range(accumulation):
            x, y = self.train_batches.next()
            # DDP averages gradients across ranks during backward; skipping that on all but the last
            # micro-batch saves one all-reduce per micro-batch.
            skip_sync = isinstance(self.train_model, DistributedDataParallel) and micro_step < accumulation - 1
            with self.train_model.no_sync() if skip_sync else contextlib.nullcontext():
                with autocast_context(self.device, self.dtype):
                    _, loss = self.train_model(x, y)
                    loss = loss / accumulation  # the sum over micro-batches is the mean loss of the step
                    objective = loss
                    if self.expert_usage.enabled:
                        # The MoE layers stored their load-balancing losses during this forward pass.
                        aux_loss = self.raw_model.moe_aux_loss() / accumulation
                        objective = loss + config.moe_aux_loss_weight * aux_loss
                        if self.context.is_main:
                            self.expert_usage.add(aux_loss)
                self.scaler.scale(objective).backward()
            step_loss += loss.detach().float()

        if config.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.raw_model.parameters(), config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        return step_loss, lr

    def _evaluate(self, iteration: int) -> dict[str, float]:
        losses = estimate_loss(self.model, self.eval_splits, self.config.eval_iters, self.device, self.dtype,
                               self.context)
        self.evaluated_iter = iteration
        self.best_val_loss = min(self.best_val_loss, losses["val"])
        if self.context.is_main:
            logger.info("iter %d: train loss %.4f, val loss %.4f", iteration, losses["train"], losses["val"])
            if self.expert_usage.last_usage:
                logger.info("expert usage (fraction of tokens per expert, one list per layer): %s",
                            "; ".join(" ".join(f"{f:.2f}" for f in layer) for layer in self.expert_usage.last_usage))
            self.metrics.append({"kind": "eval", "iter": iteration, "train_loss": losses["train"],
                                 "val_loss": losses["val"], "lr": learning_rate_at(iteration, self.config)})
            plot_losses(self.metrics.rows, self.out_dir / PLOT_FILE, title=self.out_dir.name)
        return losses

    def _log_step(self, iteration: int, loss: float, lr: float, elapsed: float, iters: int, bar: tqdm) -> None:
        tokens_per_s = self.tokens_per_iter * iters / elapsed
        row = {"kind": "step", "iter": iteration, "train_loss": loss, "lr": lr, "tokens_per_s": tokens_per_s,
               "ms_per_iter": 1000 * elapsed / iters}
        if self.expert_usage.enabled:
            row.update(self.expert_usage.summary_and_reset(iters))
        self.metrics.append(row)
        bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}", tok_s=f"{tokens_per_s:,.0f}", refresh=False)
        logger.debug("iter %d: loss %.4f, lr %.2e, %.0f tokens/s", iteration, loss, lr, tokens_per_s)

    def _save(self, iteration: int) -> None:
        """Write the checkpoint of the state before ``iteration``'s training step (every rank must call this)."""
        rng_states = all_gather_objects(capture_rng_state(self.train_batches.generator), self.context)
        if not self.context.is_main:
            return
        payload = {
            "format_version": CHECKPOINT_FORMAT_VERSION,
            "model": self.raw_model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "model_config": dataclasses.asdict(self.raw_model.config),
            "train_config": self.config.to_dict(),
            "iter": iteration,
            "evaluated_iter": self.evaluated_iter,
            "best_val_loss": self.best_val_loss,
            "rng": rng_states,
            "tokenizer": self.tokenizer_spec,
        }
        save_checkpoint(payload, self.out_dir / CHECKPOINT_FILE)

    def _result(self, iteration: int, final_val_loss: float | None, interrupted: bool = False) -> TrainResult:
        return TrainResult(model=self.raw_model, out_dir=self.out_dir, iteration=iteration,
                           best_val_loss=self.best_val_loss, final_val_loss=final_val_loss, interrupted=interrupted)
