"""Training configuration: a typed dataclass, JSON config files and matching command-line flags.

A value is resolved in this order, later sources winning: the dataclass defaults (the CPU config
``configs/shakespeare_char_cpu.json``), a JSON file given with ``--config``, then each flag given
on the command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpt_from_scratch.errors import GPTError

if TYPE_CHECKING:
    from gpt_from_scratch.model import GPTConfig

# This module imports no torch, so that building the command-line parser stays fast.
ATTENTION_KINDS = ("fused", "explicit")  # F.scaled_dot_product_attention, or matmul + mask + softmax
CONFIG_DIR = Path(__file__).parent / "configs"
DTYPES = ("auto", "float32", "bfloat16", "float16")

# Fields that fix the shape of the weights: they come from the checkpoint on --resume and --init-from.
# expert_top_k is one of them because the default expert width depends on it.
ARCHITECTURE_FIELDS = ("n_layer", "n_head", "n_embd", "block_size", "bias", "n_experts", "expert_top_k",
                       "expert_hidden_size")


def _option(default: Any, help: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help, **extra})


@dataclass
class TrainConfig:
    """Model shape and training hyperparameters of one run."""

    # Model
    n_layer: int = _option(4, "number of Transformer blocks")
    n_head: int = _option(4, "attention heads per block")
    n_embd: int = _option(128, "embedding width (model dimension)")
    block_size: int = _option(64, "context length in tokens")
    dropout: float = _option(0.0, "dropout probability")
    bias: bool = _option(False, "use biases in Linear layers and LayerNorms")
    attention: str = _option("fused", "attention implementation", choices=ATTENTION_KINDS)

    # Mixture of experts (moe.py): with n_experts > 0, every block's MLP becomes n_experts expert MLPs.
    n_experts: int = _option(0, "experts per mixture-of-experts layer; 0 keeps the dense MLP")
    expert_top_k: int = _option(2, "experts that process each token (top-k routing)")
    expert_hidden_size: int = _option(0, "hidden width of one expert; 0 means 4 * n_embd / expert_top_k, "
                                         "which matches the dense MLP's parameters per token")
    moe_aux_loss_weight: float = _option(0.01, "weight of the load-balancing loss added to the training loss")

    # Batches: one optimizer step averages the gradients of batch_size * gradient_accumulation_steps * world_size
    # sequences.
    batch_size: int = _option(12, "sequences per micro-batch on each process")
    gradient_accumulation_steps: int = _option(1, "micro-batches per optimizer step on each process")

    # AdamW and the learning-rate schedule: linear warm-up, then cosine decay to min_lr.
    learning_rate: float = _option(2e-3, "peak learning rate", flag="--lr")
    min_lr: float = _option(2e-4, "learning rate at the end of the cosine decay")
    warmup_iters: int = _option(100, "iterations of linear warm-up")
    lr_decay_iters: int = _option(2000, "iteration at which the cosine decay reaches min_lr")
    decay_lr: bool = _option(True, "decay the learning rate (else keep it at --lr)")
    weight_decay: float = _option(0.1, "AdamW weight decay of the 2-D weight matrices")
    beta1: float = _option(0.9, "AdamW beta1")
    beta2: float = _option(0.99, "AdamW beta2")
    grad_clip: float = _option(1.0, "clip the global gradient norm to this value (0 disables clipping)")

    # Length, evaluation and logging
    max_iters: int = _option(2000, "total optimizer steps")
    eval_interval: int = _option(250, "evaluate on train and val every N iterations")
    eval_iters: int = _option(200, "batches per split in each evaluation")
    log_interval: int = _option(10, "write a metrics row every N iterations")
    seed: int = _option(1337, "random seed of the weights, dropout and batch sampling")

    # Speed
    dtype: str = _option("auto", "compute dtype; auto picks bfloat16 on CUDA GPUs that support it, else float32",
                         choices=DTYPES)
    compile: bool = _option(False, "compile the model with torch.compile")

    def __post_init__(self) -> None:
        validate_train_config(self)

    def model_config(self, vocab_size: int) -> GPTConfig:
        """Return the GPTConfig of this run for a tokenizer of ``vocab_size`` tokens."""
        from gpt_from_scratch.model import GPTConfig

        return GPTConfig(
            vocab_size=vocab_size,
            block_size=self.block_size,
            n_layer=self.n_layer,
            n_head=self.n_head,
            n_embd=self.n_embd,
            dropout=self.dropout,
            bias=self.bias,
            attention=self.attention,  # type: ignore[arg-type]
            n_experts=self.n_experts,
            expert_top_k=self.expert_top_k,
            expert_hidden_size=self.expert_hidden_size,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def validate_train_config(config: TrainConfig) -> None:
    """Raise GPTError naming the first field whose value is out of range."""
    positive = ("n_layer", "n_head", "n_embd", "block_size", "batch_size", "gradient_accumulation_steps",
                "eval_interval", "eval_iters", "log_interval", "lr_decay_iters")
    for name in positive:
        if getattr(config, name) < 1:
            raise GPTError(f"{name}={getattr(config, name)} is invalid; it must be a positive integer")
    for name in ("max_iters", "warmup_iters"):
        if getattr(config, name) < 0:
            raise GPTError(f"{name}={getattr(config, name)} is invalid; it must be 0 or more")
    for name in ("learning_rate", "min_lr", "weight_decay", "grad_clip", "moe_aux_loss_weight"):
        if getattr(config, name) < 0:
            raise GPTError(f"{name}={getattr(config, name)} is invalid; it must be 0 or more")
    if config.min_lr > config.learning_rate:
        raise GPTError(f"min_lr={config.min_lr} is larger than learning_rate={config.learning_rate}; "
                       "pass a smaller --min-lr as well (usually learning_rate / 10)")
    if not 0.0 <= config.dropout < 1.0:
        raise GPTError(f"dropout={config.dropout} is invalid; use a probability in [0, 1)")
    if config.n_embd % config.n_head != 0:
        raise GPTError(f"n_embd={config.n_embd} is not divisible by n_head={config.n_head}; "
                       "choose n_embd = n_head * head size")
    if config.attention not in ATTENTION_KINDS:
        raise GPTError(f"invalid attention {config.attention!r}; use one of {', '.join(ATTENTION_KINDS)}")
    if config.dtype not in DTYPES:
        raise GPTError(f"invalid dtype {config.dtype!r}; use one of {', '.join(DTYPES)}")
    check_moe_fields(config.n_experts, config.expert_top_k, config.expert_hidden_size)


def check_moe_fields(n_experts: int, expert_top_k: int, expert_hidden_size: int) -> None:
    """Raise GPTError naming the first mixture-of-experts setting that is out of range."""
    if n_experts < 0:
        raise GPTError(f"n_experts={n_experts} is invalid; use 0 for a dense MLP or the number of experts")
    if expert_hidden_size < 0:
        raise GPTError(f"expert_hidden_size={expert_hidden_size} is invalid; use 0 (automatic) or a width")
    if n_experts > 0 and not 1 <= expert_top_k <= n_experts:
        raise GPTError(f"expert_top_k={expert_top_k} is invalid for n_experts={n_experts}; "
                       f"choose between 1 and {n_experts} experts per token")


def config_from_dict(values: dict[str, Any], base: TrainConfig | None = None, source: str = "config") -> TrainConfig:
    """Return ``base`` (default: the defaults) with ``values`` applied; unknown keys raise GPTError."""
    known = {f.name: f for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise GPTError(f"{source}: unknown field(s) {', '.join(unknown)}; valid fields: {', '.join(known)}")
    for name, value in values.items():
        _check_type(name, value, known[name].type, source)
    merged = {**(base or TrainConfig()).to_dict(), **values}
    return TrainConfig(**merged)


def _check_type(name: str, value: Any, type_name: Any, source: str) -> None:
    expected = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}[str(type_name)]
    is_bool = isinstance(value, bool)
    if not isinstance(value, expected) or (is_bool and str(type_name) != "bool"):
        raise GPTError(f"{source}: field {name} must be of type {type_name}, got {value!r}")


def load_config_file(path: str | Path, base: TrainConfig | None = None) -> TrainConfig:
    """Read a JSON config file into a TrainConfig; a bare name such as ``shakespeare_char_gpu`` finds a bundled one."""
    path = Path(path)
    if not path.exists() and not path.suffix and (CONFIG_DIR / f"{path}.json").exists():
        path = CONFIG_DIR / f"{path}.json"
    if not path.is_file():
        bundled = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.json")))
        raise GPTError(f"config file {path} not found; pass a JSON file path or one of the bundled configs: {bundled}")
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise GPTError(f"config file {path} is not valid JSON: {exc}") from exc
    if not isinstance(values, dict):
        raise GPTError(f"config file {path} must contain a JSON object of TrainConfig fields")
    return config_from_dict(values, base, source=str(path))


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one flag per TrainConfig field, such as ``--max-iters``; a flag left out keeps the config's value."""
    group = parser.add_argument_group("training configuration (overrides --config)")
    for f in dataclasses.fields(TrainConfig):
        flag = f.metadata.get("flag", "--" + f.name.replace("_", "-"))
        default = f.default
        help_text = f"{f.metadata['help']} (default: {default})"
        if str(f.type) == "bool":
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            value_type = {"int": int, "float": float, "str": str}[str(f.type)]
            choices = f.metadata.get("choices")
            metavar = None if choices else {"int": "N", "float": "X", "str": "TEXT"}[str(f.type)]
            group.add_argument(flag, dest=f.name, type=value_type, default=None, help=help_text,
                               choices=choices, metavar=metavar)


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Return the TrainConfig fields that were given as flags."""
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
