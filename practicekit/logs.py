"""Logging set-up shared by every command-line entry point."""

from __future__ import annotations

import logging
import os

LOG_LEVEL_ENV = "AI_PRACTICE_LOG_LEVEL"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str | int | None = None) -> None:
    """Configure the root logger once: ``level`` wins over ``$AI_PRACTICE_LOG_LEVEL``, default INFO."""
    chosen = level or os.environ.get(LOG_LEVEL_ENV) or "INFO"
    if isinstance(chosen, str):
        chosen = chosen.upper()
    logging.basicConfig(level=chosen, format=LOG_FORMAT, datefmt="%H:%M:%S")
    logging.getLogger().setLevel(chosen)
