"""Errors that the command line reports as one line instead of a traceback."""


class GPTError(Exception):
    """A user-facing error in gpt_from_scratch; its message names what failed and what to do."""
