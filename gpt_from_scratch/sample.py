"""Text generation: temperature, top-k and nucleus (top-p) sampling with a KV cache, streamed as text.

In a notebook::

    from gpt_from_scratch import load_checkpoint, generate
    ckpt = load_checkpoint("runs/gpt/shakespeare-char")
    print(generate(ckpt.model, ckpt.tokenizer, "ROMEO:", max_new_tokens=200, seed=0))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gpt_from_scratch.errors import GPTError
from gpt_from_scratch.model import GPT
from gpt_from_scratch.tokenizers import Tokenizer, TokenizerError


@dataclass(frozen=True)
class SamplingSettings:
    """Settings that turn the model's logits into the next token."""

    temperature: float = 1.0  # 0 picks the most likely token (greedy decoding)
    top_k: int | None = None  # keep only the k most likely tokens
    top_p: float | None = None  # keep the smallest set of tokens whose probabilities sum to at least p

    def __post_init__(self) -> None:
        if not self.temperature >= 0:
            raise GPTError(f"temperature {self.temperature} is invalid; "
                           "use 0 (greedy) or a positive value such as 0.8")
        if self.top_k is not None and self.top_k < 1:
            raise GPTError(f"top-k {self.top_k} is invalid; use a positive number of tokens such as 200, "
                           "or leave it out")
        if self.top_p is not None and not 0.0 < self.top_p <= 1.0:
            raise GPTError(f"top-p {self.top_p} is invalid; use a probability in (0, 1] such as 0.9, "
                           "or leave it out")


def filter_top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Set every logit below the k-th largest of its row to -inf; (B, V) -> (B, V). Ties with the k-th stay."""
    k = min(k, logits.size(-1))
    kth_largest = torch.topk(logits, k, dim=-1).values[..., [-1]]  # (B, 1)
    return logits.masked_fill(logits < kth_largest, float("-inf"))


def filter_top_p(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose probabilities sum to at least ``p`` (nucleus sampling).

    Holtzman et al., 2020, "The Curious Case of Neural Text Degeneration". (B, V) -> (B, V).
    """
    sorted_logits, sorted_index = torch.sort(logits, dim=-1, descending=True)
    sorted_probs = F.softmax(sorted_logits.float(), dim=-1)
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs  # probability of the tokens ranked above each one
    # A token is dropped once the tokens above it already reach p; the most likely token always stays.
    drop_sorted = mass_before >= p
    drop_sorted[..., 0] = False
    drop = drop_sorted.scatter(-1, sorted_index, drop_sorted)  # back to vocabulary order
    return logits.masked_fill(drop, float("-inf"))


def sample_next_token(logits: torch.Tensor, settings: SamplingSettings,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one token id per row from the last-position logits (B, V); returns (B,)."""
    if settings.temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits.float() / settings.temperature
    if settings.top_k is not None:
        logits = filter_top_k(logits, settings.top_k)
    if settings.top_p is not None and settings.top_p < 1.0:
        logits = filter_top_p(logits, settings.top_p)
    probs = F.softmax(logits, dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)


@torch.no_grad()
def generate_ids(model: GPT, prompt_ids: torch.Tensor, max_new_tokens: int,
                 settings: SamplingSettings = SamplingSettings(), generator: torch.Generator | None = None,
                 use_cache: bool = True) -> Iterator[torch.Tensor]:
    """Yield the next token of each sequence, (B,), ``max_new_tokens`` times, from ``prompt_ids`` (B, T).

    The model reads at most the last ``block_size`` tokens, as in nanoGPT. With ``use_cache``, each step
    feeds only the newest token and reuses the cached keys and values of the earlier ones.
    """
    if max_new_tokens < 1:
        raise GPTError(f"max new tokens {max_new_tokens} is invalid; ask for at least 1")
    if prompt_ids.dim() != 2 or prompt_ids.size(1) == 0:
        raise GPTError("the prompt is empty; give at least one token (for example a newline)")
    was_training = model.training
    model.eval()  # no dropout while sampling; the previous mode is restored at the end
    block_size = model.config.block_size
    cache = model.new_kv_cache(prompt_ids.size(0)) if use_cache else None
    tokens = prompt_ids
    try:
        for _ in range(max_new_tokens):
            if cache is None:
                logits, _ = model(tokens[:, -block_size:], only_last=True)
            elif cache.length == 0 or cache.length == block_size:
                # NOTE: learned position embeddings tie each cached key to its position. Once the window is
                # full and slides by one token, every cached entry is stale, so the cache is rebuilt from the
                # last block_size tokens at each step: the cache speeds up only the first block_size tokens.
                cache.reset()
                logits, _ = model(tokens[:, -block_size:], kv_cache=cache, only_last=True)
            else:
                logits, _ = model(tokens[:, -1:], kv_cache=cache, only_last=True)
            next_ids = sample_next_token(logits[:, -1, :], settings, generator)  # (B,)
            tokens = torch.cat([tokens, next_ids[:, None]], dim=1)
            yield next_ids
    finally:
        model.train(was_training)


class TextStream:
    """Turn token ids into text pieces as they arrive, holding back a character split between tokens.

    A byte-level BPE token can end in the middle of a multi-byte UTF-8 character, which then decodes to
    U+FFFD until the next token completes it. A UTF-8 character has at most 4 bytes, so after 4 held
    tokens the replacement character is real and is released.
    """

    MAX_HELD_TOKENS = 4

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self._pending_ids: list[int] = []

    def push(self, token_id: int) -> str:
        """Add one token and return the text that is now complete (possibly empty)."""
        self._pending_ids.append(token_id)
        text = self.tokenizer.decode(self._pending_ids)
        if text.endswith("\ufffd") and len(self._pending_ids) < self.MAX_HELD_TOKENS:
            return ""
        self._pending_ids = []
        return text

    def flush(self) -> str:
        """Return whatever is still held, at the end of generation."""
        text = self.tokenizer.decode(self._pending_ids) if self._pending_ids else ""
        self._pending_ids = []
        return text


def encode_prompt(tokenizer: Tokenizer, prompt: str, block_size: int, crop: bool = False) -> list[int]:
    """Encode ``prompt``, raising GPTError when it is empty or longer than ``block_size`` (unless ``crop``)."""
    try:
        ids = tokenizer.encode(prompt)
    except TokenizerError as error:
        raise GPTError(f"the prompt cannot be encoded: {error}") from error
    if not ids:
        raise GPTError("the prompt is empty; pass some text with --prompt (for example a newline)")
    if len(ids) > block_size:
        if not crop:
            raise GPTError(f"the prompt has {len(ids)} tokens, more than the model's block size of {block_size}; "
                           "shorten it, or pass --crop-prompt to keep only its last tokens")
        ids = ids[-block_size:]
    return ids


def generate(model: GPT, tokenizer: Tokenizer, prompt: str, max_new_tokens: int = 200, *, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, seed: int | None = None, use_cache: bool = True,
             crop_prompt: bool = False, on_text: Callable[[str], None] | None = None) -> str:
    """Return the text that the model writes after ``prompt`` (the prompt itself is not included).

    ``on_text`` receives each piece of text as soon as it is decoded, for streaming. ``seed`` makes the
    output reproducible on the same device.
    """
    settings = SamplingSettings(temperature=temperature, top_k=top_k, top_p=top_p)
    device = next(model.parameters()).device
    ids = encode_prompt(tokenizer, prompt, model.config.block_size, crop=crop_prompt)
    generator = None
    if seed is not None:
        generator = torch.Generator(device=device).manual_seed(seed)

    stream = TextStream(tokenizer)
    pieces: list[str] = []
    prompt_ids = torch.tensor([ids], dtype=torch.long, device=device)
    for next_ids in generate_ids(model, prompt_ids, max_new_tokens, settings, generator, use_cache):
        pieces.append(stream.push(int(next_ids[0])))
        if on_text is not None and pieces[-1]:
            on_text(pieces[-1])
    pieces.append(stream.flush())
    if on_text is not None and pieces[-1]:
        on_text(pieces[-1])
    return "".join(pieces)
