"""Data and model files that gpt_from_scratch needs, each found or fetched by ``practicekit.resolve``."""

from __future__ import annotations

from practicekit import Asset, PipSource

TINY_SHAKESPEARE = Asset(
    name="tiny-shakespeare",
    filename="tinyshakespeare.txt",
    sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    urls=("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",),
    description="Tiny Shakespeare: 40,000 lines of Shakespeare plays, 1,115,394 characters (char-rnn), 1.1 MB",
)

# GPT-2's byte-level BPE ranks in tiktoken's format (base64 token, space, rank; 50,256 lines). The openai-whisper
# source distribution ships them, so pip can fetch them from PyPI.
GPT2_RANKS = Asset(
    name="gpt2-ranks",
    filename="gpt2.tiktoken",
    sha256="306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
    pip_source=PipSource("openai-whisper==20250625", "whisper/assets/gpt2.tiktoken"),
    description="GPT-2 BPE merge ranks in tiktoken format, 0.8 MB",
)

DATASETS = {"shakespeare": TINY_SHAKESPEARE}
