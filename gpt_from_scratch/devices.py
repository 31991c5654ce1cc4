"""Device and precision choices: ``--device auto|cpu|cuda|mps`` and ``dtype auto|float32|bfloat16|float16``."""

from __future__ import annotations

import contextlib

import torch

from gpt_from_scratch.errors import GPTError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _mps_available() -> bool:
    return hasattr(torch.backends, "mps") and torch.backends.mps.is_available()


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """Return the torch.device for ``name``; ``auto`` picks CUDA, then Apple MPS, then the CPU.

    ``cuda`` may carry an index (``cuda:1``). Without one, process ``local_rank`` of a multi-GPU
    run gets GPU ``local_rank``.
    """
    kind = name.split(":", 1)[0]
    if kind == "auto":
        if torch.cuda.is_available():
            kind = "cuda"
        elif _mps_available():
            kind = "mps"
        else:
            kind = "cpu"
        name = kind
    if kind not in DEVICE_CHOICES:
        raise GPTError(f"invalid device {name!r}; use one of {', '.join(DEVICE_CHOICES)} (or cuda:N)")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise GPTError(
                f"--device {name} requested but CUDA is not available (torch {torch.__version__}, "
                f"CUDA build: {torch.version.cuda or 'none'}); use --device cpu or --device auto"
            )
        index = int(name.split(":", 1)[1]) if ":" in name else local_rank
        if index >= torch.cuda.device_count():
            raise GPTError(f"--device cuda:{index} requested but only {torch.cuda.device_count()} GPU(s) are visible")
        return torch.device("cuda", index)
    if kind == "mps" and not _mps_available():
        raise GPTError("--device mps requested but Apple MPS is not available; use --device cpu or --device auto")
    return torch.device(kind)


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """Return the compute dtype; ``auto`` is bfloat16 on CUDA GPUs that support it, float32 elsewhere.

    float32 stays the CPU default because bfloat16 autocast made the small CPU config slower in
    bench/gpt_train_speed.py, even on a Xeon with AMX-BF16. Ask for it with ``--dtype bfloat16``.
    """
    if name == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    if name not in _DTYPES:
        raise GPTError(f"invalid dtype {name!r}; use one of auto, {', '.join(_DTYPES)}")
    if name == "float16" and device.type == "cpu":
        raise GPTError("dtype float16 is not supported for training on the CPU; use bfloat16 or float32")
    return _DTYPES[name]


def autocast_context(device: torch.device, dtype: torch.dtype) -> contextlib.AbstractContextManager:
    """Return torch.autocast for a lower-precision dtype, else a no-op context (plain float32)."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def enable_tf32(device: torch.device) -> None:
    """Let float32 matmuls and convolutions use TensorFloat-32 on Ampere and newer NVIDIA GPUs."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def set_threads(threads: int | None) -> None:
    """Set torch's intra-op CPU threads when ``threads`` is given; None keeps torch's choice."""
    if threads is None:
        return
    if threads < 1:
        raise GPTError(f"--threads {threads} is invalid; use a positive number of threads")
    torch.set_num_threads(threads)
