"""Checkpoints: everything needed to resume training exactly, and to sample without the data folder.

A checkpoint (``ckpt.pt``) is a dict saved with ``torch.save``:

- ``model``, ``optimizer``, ``scaler``: state dicts (the model's without any torch.compile prefix);
- ``model_config``, ``train_config``: the GPTConfig and TrainConfig as dicts;
- ``iter``: the next iteration to run; ``evaluated_iter``: the iteration of the last evaluation;
- ``best_val_loss``;
- ``rng``: one dict per rank with the Python, NumPy, torch (CPU, CUDA, MPS) and batch-generator states;
- ``tokenizer``: the tokenizer spec, so that sampling needs no data folder.

It contains only tensors and plain Python values, so ``torch.load(..., weights_only=True)`` reads it
without running pickled code.
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gpt_from_scratch.devices import resolve_device
from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.model import GPT, GPTConfig
from gpt_from_scratch.tokenizers import Tokenizer, tokenizer_from_spec

logger = logging.getLogger(__name__)

CHECKPOINT_FILE = "ckpt.pt"
CHECKPOINT_FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "model", "model_config", "train_config", "iter", "tokenizer")


def checkpoint_path(path: str | os.PathLike) -> Path:
    """Return the checkpoint file for ``path``: the file itself, or ``ckpt.pt`` inside a run folder."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_FILE
    if not path.is_file():
        raise GPTError(
            f"checkpoint {path} not found; train a model first, for example "
            f"`python -m gpt_from_scratch train --data DATA_DIR --out {path.parent if path.suffix else path}` "
            "(or `make train-gpt`), and pass its --out folder or ckpt.pt file"
        )
    return path


def save_checkpoint(payload: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``payload`` to ``path`` atomically: a temporary file in the same folder, then os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        torch.save(payload, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and check a checkpoint dict; ``path`` may be a run folder or a ``.pt`` file."""
    path = checkpoint_path(path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch.load raises several types (UnpicklingError, RuntimeError, EOFError).
        # torch's own message suggests weights_only=False, which would run arbitrary pickled code: keep it out.
        logger.debug("torch.load(%s) failed", path, exc_info=True)
        raise GPTError(f"cannot read checkpoint {path} ({exc.__class__.__name__}): it is truncated or not a "
                       "gpt_from_scratch checkpoint; pass the ckpt.pt of a training run") from exc
    missing = [key for key in REQUIRED_KEYS if not isinstance(payload, dict) or key not in payload]
    if missing:
        raise GPTError(f"{path} is not a gpt_from_scratch checkpoint: it lacks {', '.join(missing)}")
    if payload["format_version"] > CHECKPOINT_FORMAT_VERSION:
        raise GPTError(f"{path} has checkpoint format {payload['format_version']}, newer than this code "
                       f"supports ({CHECKPOINT_FORMAT_VERSION}); update gpt_from_scratch")
    payload["path"] = str(path)
    return payload


# ---------------------------------------------------------------- random number generator states


def capture_rng_state(batch_generator: torch.Generator) -> dict[str, Any]:
    """Return this process's RNG states as tensors and plain values (safe for weights_only loading)."""
    numpy_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {"key": torch.from_numpy(numpy_state[1].astype(np.int64)), "pos": int(numpy_state[2]),
                  "has_gauss": int(numpy_state[3]), "cached_gaussian": float(numpy_state[4])},
        "torch": torch.get_rng_state(),
        "batches": batch_generator.get_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        state["mps"] = torch.mps.get_rng_state()
    return state


def restore_rng_state(state: dict[str, Any], batch_generator: torch.Generator) -> None:
    """Set the RNG states saved by :func:`capture_rng_state`."""
    python_state = state["python"]
    random.setstate((python_state[0], tuple(python_state[1]), python_state[2]))
    numpy_state = state["numpy"]
    np.random.set_state(("MT19937", numpy_state["key"].numpy().astype(np.uint32), numpy_state["pos"],
                         numpy_state["has_gauss"], numpy_state["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    batch_generator.set_state(state["batches"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "mps" in state and hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        torch.mps.set_rng_state(state["mps"])


# ---------------------------------------------------------------- loading a trained model


@dataclass
class Checkpoint:
    """A trained model ready for sampling, with its tokenizer and the run's settings."""

    model: GPT
    tokenizer: Tokenizer
    model_config: GPTConfig
    train_config: dict[str, Any]
    iteration: int
    best_val_loss: float
    path: Path


def model_from_checkpoint(payload: dict[str, Any], **config_changes: Any) -> GPT:
    """Build a GPT with the checkpoint's config (updated by ``config_changes``) and load its weights."""
    config = GPTConfig(**{**payload["model_config"], **config_changes})
    model = GPT(config)
    model.load_state_dict(payload["model"])
    return model


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "auto") -> Checkpoint:
    """Load a trained model in eval mode on ``device`` (``auto``: CUDA, MPS or CPU) with its tokenizer."""
    device = resolve_device(device) if isinstance(device, str) else device
    payload = read_checkpoint(path)
    model = model_from_checkpoint(payload).to(device).eval()
    tokenizer = tokenizer_from_spec(payload["tokenizer"])
    if tokenizer.vocab_size != model.config.vocab_size:
        raise GPTError(f"{payload['path']}: tokenizer has {tokenizer.vocab_size} tokens but the model expects "
                       f"{model.config.vocab_size}; the checkpoint is inconsistent, train it again")
    return Checkpoint(
        model=model,
        tokenizer=tokenizer,
        model_config=model.config,
        train_config=payload["train_config"],
        iteration=payload["iter"],
        best_val_loss=payload.get("best_val_loss", float("nan")),
        path=Path(payload["path"]),
    )
