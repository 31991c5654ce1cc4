"""Evaluation and interruption of a training run: the mean loss per split, and a Ctrl-C that stops cleanly."""

from __future__ import annotations

import logging
import math
import signal
import threading
from typing import Any

import torch

from gpt_from_scratch.batches import TokenBatches
from gpt_from_scratch.devices import autocast_context
from gpt_from_scratch.distributed import DistributedContext, all_reduce_mean

logger = logging.getLogger(__name__)


@torch.no_grad()
def estimate_loss(model: torch.nn.Module, splits: dict[str, TokenBatches], eval_iters: int,
                  device: torch.device, dtype: torch.dtype, context: DistributedContext) -> dict[str, float]:
    """Return the mean loss of each split over ``eval_iters`` batches, shared out among the ranks.

    Each split's batch generator restarts from its seed, so every evaluation uses the same batches.
    """
    was_training = model.training
    model.eval()
    batches_per_rank = math.ceil(eval_iters / context.world_size)
    losses = {}
    for name, batches in splits.items():
        batches.reset()
        total = torch.zeros((), device=device)
        for _ in range(batches_per_rank):
            x, y = batches.next()
            with autocast_context(device, dtype):
                _, loss = model(x, y)
            total += loss.float()
        losses[name] = all_reduce_mean(total / batches_per_rank, context).item()
    model.train(was_training)
    return losses


class StopRequest:
    """Turn the first Ctrl-C into a request to stop at the next iteration boundary (single process only)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: Any) -> None:
        logger.warning("interrupt received: saving a checkpoint after this iteration (press Ctrl-C again to abort)")
        self.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)
