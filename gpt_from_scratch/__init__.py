"""A GPT written from scratch in PyTorch: tokenizers, data preparation, model, training and sampling.

It also contains three experiments: a mixture-of-experts MLP (``moe.py``), a scaling-law fit
(``scaling.py``) and RLVR on two-digit addition (``rlvr_experiment.py``).

The notebook-facing names below are imported on first use, so ``import gpt_from_scratch`` stays
cheap and the ``prepare`` command runs without importing torch::

    from gpt_from_scratch import GPT, GPTConfig, TrainConfig, train, load_checkpoint, generate
    from gpt_from_scratch import fit_power_law, run_scaling, run_rlvr, RLVRConfig
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "GPT": "gpt_from_scratch.model",
    "GPTConfig": "gpt_from_scratch.model",
    "KVCache": "gpt_from_scratch.model",
    "TrainConfig": "gpt_from_scratch.config",
    "load_config_file": "gpt_from_scratch.config",
    "train": "gpt_from_scratch.training",
    "TrainResult": "gpt_from_scratch.training",
    "estimate_loss": "gpt_from_scratch.evaluation",
    "Checkpoint": "gpt_from_scratch.checkpoint",
    "load_checkpoint": "gpt_from_scratch.checkpoint",
    "generate": "gpt_from_scratch.sample",
    "generate_ids": "gpt_from_scratch.sample",
    "SamplingSettings": "gpt_from_scratch.sample",
    "prepare_data": "gpt_from_scratch.data",
    "read_meta": "gpt_from_scratch.data",
    "load_tokens": "gpt_from_scratch.data",
    "GPTError": "gpt_from_scratch.errors",
    "MoE": "gpt_from_scratch.moe",
    "fit_power_law": "gpt_from_scratch.scaling_law",
    "run_scaling": "gpt_from_scratch.scaling",
    "ScalingSetting": "gpt_from_scratch.scaling",
    "run_rlvr": "gpt_from_scratch.rlvr_experiment",
    "RLVRConfig": "gpt_from_scratch.rlvr_experiment",
}
_RENAMED = {"prepare_data": "prepare"}

__all__ = [
    "GPT", "GPTConfig", "GPTError", "KVCache", "Checkpoint", "MoE", "RLVRConfig", "SamplingSettings",
    "ScalingSetting", "TrainConfig", "TrainResult", "estimate_loss", "fit_power_law", "generate", "generate_ids",
    "load_checkpoint", "load_config_file", "load_tokens", "prepare_data", "read_meta", "run_rlvr", "run_scaling",
    "train",
]

if TYPE_CHECKING:
    from gpt_from_scratch.checkpoint import Checkpoint, load_checkpoint
    from gpt_from_scratch.config import TrainConfig, load_config_file
    from gpt_from_scratch.data import load_tokens, read_meta
    from gpt_from_scratch.data import prepare as prepare_data
    from gpt_from_scratch.errors import GPTError
    from gpt_from_scratch.evaluation import estimate_loss
    from gpt_from_scratch.model import GPT, GPTConfig, KVCache
    from gpt_from_scratch.moe import MoE
    from gpt_from_scratch.rlvr_experiment import RLVRConfig, run_rlvr
    from gpt_from_scratch.sample import SamplingSettings, generate, generate_ids
    from gpt_from_scratch.scaling import ScalingSetting, run_scaling
    from gpt_from_scratch.scaling_law import fit_power_law
    from gpt_from_scratch.training import TrainResult, train


def __getattr__(name: str) -> Any:
    # Submodules such as ``gpt_from_scratch.prepare`` are not in _EXPORTS, so the import system finds them.
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gpt_from_scratch' has no attribute {name!r}")
    module = importlib.import_module(_EXPORTS[name])
    value = getattr(module, _RENAMED.get(name, name))
    globals()[name] = value
    return value
