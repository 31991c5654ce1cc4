"""Error types for user mistakes. The CLI prints their message as one line and exits with status 2."""

from __future__ import annotations


class Cifar10Error(Exception):
    """Base class for errors caused by user input, with a message that names the next step."""


class DatasetError(Cifar10Error):
    """Raised when a data set is missing, corrupt or not in a supported layout."""


class ImageReadError(Cifar10Error):
    """Raised when an image file cannot be read or decoded."""


class RunError(Cifar10Error):
    """Raised when a run folder is missing, incomplete or was made with another configuration."""


class ModelInputError(Cifar10Error):
    """Raised when an exported model does not accept the input this package feeds it."""
