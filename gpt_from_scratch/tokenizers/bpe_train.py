"""Learning byte-level BPE merges from a corpus, with incremental pair counts.

The naive loop recounts every adjacent pair of the whole corpus after each merge. Here the corpus is
reduced once to its distinct pre-split words with their counts, and each merge touches only the words that
contain the merged pair:

- ``pair_counts[(a, b)]`` is how often token ``a`` is followed by token ``b``, summed over the corpus;
- ``pair_words[(a, b)]`` is the set of words that contained the pair (it may keep stale entries, which the
  merge step skips);
- a max-heap of ``(-count, pair)`` picks the most frequent pair. Entries are not removed when a count changes.
  A changed count gets a new entry, and a popped entry whose count is out of date is dropped.

Ties between equally frequent pairs go to the pair with the smaller token ids, so training is deterministic.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import pairwise

import regex

logger = logging.getLogger(__name__)

Pair = tuple[int, int]


def count_words(text: str, pattern: str, special_tokens: Sequence[str] = ()) -> Counter[str]:
    """Count the pre-split words of ``text``. Special-token text is cut out first, so it is never learned."""
    chunks = [text]
    if special_tokens:
        alternatives = "|".join(regex.escape(token) for token in sorted(special_tokens, key=len, reverse=True))
        chunks = regex.split(alternatives, text)
    split_regex = regex.compile(pattern)
    counts: Counter[str] = Counter()
    for chunk in chunks:
        counts.update(split_regex.findall(chunk))
    return counts


def learn_merges(text: str, num_merges: int, *, pattern: str,
                 special_tokens: Sequence[str] = ()) -> list[tuple[bytes, bytes]]:
    """Return up to ``num_merges`` merges as (left bytes, right bytes) pairs, most frequent first.

    Ids 0..255 are the single bytes, and merge ``i`` creates id ``256 + i``. Fewer merges come back when no
    pair of tokens is left anywhere in the corpus.
    """
    started = time.perf_counter()
    word_counts = count_words(text, pattern, special_tokens)
    # Single-byte words contain no pair and can never change, so they are left out.
    words = [list(word.encode("utf-8")) for word in word_counts]
    counts = list(word_counts.values())
    keep = [i for i, ids in enumerate(words) if len(ids) > 1]
    words, counts = [words[i] for i in keep], [counts[i] for i in keep]

    pair_counts: dict[Pair, int] = defaultdict(int)
    pair_words: dict[Pair, set[int]] = defaultdict(set)
    for index, (ids, count) in enumerate(zip(words, counts, strict=True)):
        for pair in pairwise(ids):
            pair_counts[pair] += count
            pair_words[pair].add(index)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)

    vocab = [bytes([byte]) for byte in range(256)]
    known_tokens = set(vocab)
    merges: list[tuple[bytes, bytes]] = []
    while len(merges) < num_merges and heap:
        negative_count, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative_count:
            continue  # an out-of-date entry, because the current count has its own entry
        left, right = vocab[pair[0]], vocab[pair[1]]
        if left + right in known_tokens:
            # Defensive: the encoder ranks tokens by their bytes, as tiktoken does, so a byte string may be a
            # token only once. A pair that spells an existing token (("ab", "c") after ("a", "bc")) is skipped.
            # NOTE: no corpus tried so far, including 200,000 random ones, has produced such a pair.
            logger.debug("BPE: skipping pair %r + %r because token %r exists", left, right, left + right)
            continue

        new_id = len(vocab)
        vocab.append(left + right)
        known_tokens.add(left + right)
        merges.append((left, right))
        for changed in _apply_merge(pair, new_id, words, counts, pair_counts, pair_words):
            count = pair_counts.get(changed, 0)
            if count > 0:
                heapq.heappush(heap, (-count, changed))

    elapsed = time.perf_counter() - started
    logger.info("BPE: learned %d merges from %d distinct words in %.1f s", len(merges), len(words), elapsed)
    if len(merges) < num_merges:
        logger.warning("BPE: the corpus ran out of pairs after %d of %d merges, so the vocabulary is smaller "
                       "than requested", len(merges), num_merges)
    return merges


def _apply_merge(pair: Pair, new_id: int, words: list[list[int]], counts: list[int],
                 pair_counts: dict[Pair, int], pair_words: dict[Pair, set[int]]) -> set[Pair]:
    """Replace ``pair`` by ``new_id`` in every word that contains it, update the pair counts of those words,
    and return the pairs whose count changed."""
    first, second = pair
    deltas: dict[Pair, int] = defaultdict(int)
    for index in pair_words.pop(pair, ()):
        ids = words[index]
        merged = _merge_ids(ids, first, second, new_id)
        if len(merged) == len(ids):
            continue  # stale entry: an earlier merge already consumed this pair in this word
        count = counts[index]
        for old_pair in pairwise(ids):
            deltas[old_pair] -= count
        for new_pair in pairwise(merged):
            deltas[new_pair] += count
            pair_words[new_pair].add(index)
        words[index] = merged

    changed = set()
    for changed_pair, delta in deltas.items():
        if delta == 0:
            continue
        changed.add(changed_pair)
        total = pair_counts[changed_pair] + delta
        if total > 0:
            pair_counts[changed_pair] = total
        else:
            del pair_counts[changed_pair]
    return changed


def _merge_ids(ids: list[int], first: int, second: int, new_id: int) -> list[int]:
    """Replace each non-overlapping ``first, second`` in ``ids``, left to right, by ``new_id``."""
    merged = []
    i, last = 0, len(ids) - 1
    while i <= last:
        if i < last and ids[i] == first and ids[i + 1] == second:
            merged.append(new_id)
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged
