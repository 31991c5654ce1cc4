"""Helpers that every ai-practice package needs: the asset resolver and logging set-up."""

from practicekit.assets import (
    CACHE_ENV,
    DATA_ENV,
    Asset,
    AssetError,
    AssetNotFoundError,
    ChecksumMismatchError,
    PipSource,
    cache_dir,
    data_dirs,
    find_data_path,
    resolve,
)
from practicekit.logs import setup_logging

__all__ = [
    "Asset", "AssetError", "AssetNotFoundError", "ChecksumMismatchError", "PipSource", "CACHE_ENV", "DATA_ENV",
    "cache_dir", "data_dirs", "find_data_path", "resolve", "setup_logging",
]
