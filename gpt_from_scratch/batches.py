"""Random training windows from a token file, reproducible through a seeded torch.Generator."""

from __future__ import annotations

import numpy as np
import torch

from gpt_from_scratch.errors import GPTError


class TokenBatches:
    """Draw batches of (input, target) windows at random offsets of one split, as nanoGPT's get_batch.

    The targets are the inputs shifted by one token. Offsets come from a private generator, so the
    sequence of batches depends only on ``seed`` and on how many batches were drawn, and a saved
    ``state()`` makes a resumed run draw exactly the batches that an uninterrupted run would.
    """

    def __init__(self, tokens: np.ndarray, block_size: int, batch_size: int, device: torch.device, seed: int,
                 split: str = "train"):
        if len(tokens) < block_size + 1:
            raise GPTError(
                f"the {split} split has {len(tokens)} tokens, fewer than block_size + 1 = {block_size + 1}; "
                "use a larger corpus, a larger val fraction when preparing, or a smaller --block-size"
            )
        self.tokens = tokens
        self.block_size = block_size
        self.batch_size = batch_size
        self.device = device
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)
        self._window = torch.arange(block_size + 1)  # (T + 1,) offsets inside one window

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return inputs and targets, both (batch_size, block_size) int64 on the device."""
        starts = torch.randint(len(self.tokens) - self.block_size, (self.batch_size,), generator=self.generator)
        index = (starts[:, None] + self._window).numpy()  # (B, T + 1)
        windows = torch.from_numpy(self.tokens[index].astype(np.int64))  # one gather from the memmap
        x = windows[:, :-1].contiguous()
        y = windows[:, 1:].contiguous()
        if self.device.type == "cuda":
            # Pinned host memory lets the copy run asynchronously while the GPU works.
            return x.pin_memory().to(self.device, non_blocking=True), y.pin_memory().to(self.device, non_blocking=True)
        return x.to(self.device), y.to(self.device)

    def reset(self) -> None:
        """Restart the sequence of batches from the seed."""
        self.generator.manual_seed(self.seed)

    def state(self) -> torch.Tensor:
        return self.generator.get_state()

    def load_state(self, state: torch.Tensor) -> None:
        self.generator.set_state(state)
