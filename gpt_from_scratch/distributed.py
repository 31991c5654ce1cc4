"""Multi-process training with torch.distributed, as launched by ``torchrun``.

torchrun starts one process per GPU (or per CPU worker) and sets RANK, LOCAL_RANK and
WORLD_SIZE in each one's environment. A process started without them trains alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from gpt_from_scratch.devices import resolve_device
from gpt_from_scratch.errors import GPTError


@dataclass(frozen=True)
class DistributedContext:
    """This process's place in the run: rank 0 of world size 1 for a single process."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main process (rank 0) writes files and logs progress."""
        return self.rank == 0


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise GPTError(f"environment variable {name}={value!r} is not an integer; "
                       "unset it or launch with torchrun") from exc


def setup_distributed(device_name: str) -> tuple[DistributedContext, torch.device]:
    """Join the process group when RANK and WORLD_SIZE are set, and pick this process's device.

    The backend is NCCL on CUDA and Gloo on the CPU. MASTER_ADDR and MASTER_PORT must be set too,
    as torchrun does.
    """
    rank, world_size = _env_int("RANK"), _env_int("WORLD_SIZE")
    if rank is None or world_size is None or world_size <= 1:
        return DistributedContext(), resolve_device(device_name)

    local_rank = _env_int("LOCAL_RANK")
    local_rank = rank if local_rank is None else local_rank
    device = resolve_device(device_name, local_rank=local_rank)
    if device.type == "mps":
        raise GPTError("multi-process training is not supported on MPS; use --device cpu or a CUDA machine")
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistributedContext(rank=rank, local_rank=local_rank, world_size=world_size), device


def shutdown_distributed(context: DistributedContext) -> None:
    if context.is_distributed and dist.is_initialized():
        dist.destroy_process_group()


def all_gather_objects(value: Any, context: DistributedContext) -> list[Any]:
    """Return ``value`` from every rank, in rank order (a one-item list for a single process)."""
    if not context.is_distributed:
        return [value]
    gathered: list[Any] = [None] * context.world_size
    dist.all_gather_object(gathered, value)
    return gathered


def all_reduce_mean(values: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """Average ``values`` over all ranks (unchanged for a single process)."""
    if not context.is_distributed:
        return values
    values = values.clone()
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values / context.world_size
