"""Shared set-up of the gpt_from_scratch tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Run each test module on one torch thread, and restore the previous count afterwards.

    Tiny models gain nothing from a second thread, and on a loaded machine the threads wait on each other.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
