"""CIFAR-10 image classification in TensorFlow 2 / Keras 3: data, models, training, evaluation, export.

Notebook use::

    from cifar10 import Predictor, evaluate_run, export_run, make_config, train
    train(make_config("fast", epochs=2), "runs/cifar10/notebook")
    print(evaluate_run("runs/cifar10/notebook").accuracy)
    export = export_run("runs/cifar10/notebook")
    print(Predictor(export.folder).predict(["cat.jpg"]))

The names below are imported on first use, so ``import cifar10`` and ``python -m cifar10 --help`` stay fast
and TensorFlow loads only when a command needs it.
"""

import importlib
import os

# Both variables are read once, when TensorFlow is imported, so they are set before any submodule imports it.
# oneDNN provides the fast bfloat16 kernels that mixed_bfloat16 training uses on CPUs with AMX.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # hide TensorFlow's INFO lines, keep its warnings

_EXPORTS = {
    "CLASS_NAMES": "cifar10.sources",
    "Cifar10Error": "cifar10.errors", "DatasetError": "cifar10.errors", "ImageReadError": "cifar10.errors",
    "ModelInputError": "cifar10.errors", "RunError": "cifar10.errors",
    "TrainConfig": "cifar10.config", "make_config": "cifar10.config",
    "ImageDataset": "cifar10.datasets", "load_dataset": "cifar10.datasets",
    "TrainResult": "cifar10.training", "train": "cifar10.training",
    "EvaluationReport": "cifar10.evaluate", "evaluate_run": "cifar10.evaluate",
    "ExportResult": "cifar10.export", "Predictor": "cifar10.export", "export_run": "cifar10.export",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'cifar10' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
