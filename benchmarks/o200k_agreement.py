"""o200k_base token counts: bpe-openai (installed by ``make install``) against tiktoken (what the
Cobalt reference counts with, ``verl/code_reward_func_think.py``), on a large mixed sample.

tiktoken downloads its encoding file on first use. Offline, this script hands tiktoken the
file bpe-openai ships (gunzipped, under the cache name tiktoken looks for, in a temporary
``TIKTOKEN_CACHE_DIR``): tiktoken checks a cached file's SHA-256 against the official one
before it uses it, so a tiktoken that loads proves the two packages hold the same vocabulary,
and the comparison below is of the two implementations (pre-tokenizer and merges).

The sample (fixed seed):

- text files cut at random places into pieces of 1 to 30,000 characters: the Python standard
  library's sources, this project's sources, docs and bundled problems;
- random strings built from runs of awkward characters: every kind of whitespace and line
  break (``\\r\\n``, lone ``\\r``, tabs, U+00A0, U+2028, U+3000), letters of several scripts
  and cases (titlecase, modifier letters, combining marks), digits of several systems, English
  contractions in upper and lower case, punctuation and ``/`` runs, emoji with ZWJ, lone
  surrogates, and the special-token texts ``<|endoftext|>`` / ``<|endofprompt|>`` (counted
  as ordinary text, as the project counts them);
- reply-shaped texts: a ``<think>`` block, a Python fence and an explanation, glued from the
  pieces above.

Run from the repository root (tiktoken is not a dependency of the project; install it into a
scratch environment or the venv for this)::

    .venv/bin/pip install tiktoken
    .venv/bin/python benchmarks/o200k_agreement.py [--strings 60000] [--seed 0]

It prints the sample's size, the number of strings whose token ids differ (and the first
few), and each tokenizer's time. Exit status 1 when any string differs.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.resources
import os
import random
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
ROOT = Path(__file__).resolve().parents[1]

Encode = Callable[[str], list[int]]


def tiktoken_encoder(cache: Path) -> Encode:
    """tiktoken's o200k_base; offline, from bpe-openai's file (tiktoken checks its hash)."""
    import tiktoken  # type: ignore[import-not-found,unused-ignore]

    try:
        encoding = tiktoken.get_encoding("o200k_base")
    except Exception as e:  # no network: offer tiktoken the shipped file
        print(
            f"tiktoken could not fetch o200k_base ({type(e).__name__}); using the file "
            "bpe-openai ships, if tiktoken accepts its hash"
        )
        shipped = importlib.resources.files("bpe_openai.data") / "o200k_base.tiktoken.gz"
        data = gzip.decompress(shipped.read_bytes())
        name = hashlib.sha1(TIKTOKEN_URL.encode()).hexdigest()
        (cache / name).write_bytes(data)
        print(f"  sha256 of the shipped file: {hashlib.sha256(data).hexdigest()}")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        encoding = tiktoken.get_encoding("o200k_base")
    return lambda text: list(encoding.encode(text, disallowed_special=()))


def bpe_openai_encoder() -> Encode:
    import bpe_openai

    encoding = bpe_openai.get_encoding("o200k_base")
    return lambda text: list(encoding.encode(text, disallowed_special=()))


def text_files() -> list[str]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    paths = sorted(stdlib.glob("*.py")) + sorted(stdlib.glob("*/*.py"))
    for pattern in ("src/**/*.py", "docs/*.md", "*.md", "src/cobalt_rl/problems/bundled/*.jsonl"):
        paths += sorted(ROOT.glob(pattern))
    texts = []
    for path in paths:
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError):
            continue
    return texts


def file_pieces(rng: random.Random, texts: list[str], n: int) -> Iterator[str]:
    for _ in range(n):
        text = rng.choice(texts)
        length = int(10 ** rng.uniform(0, 4.5))
        start = rng.randrange(max(1, len(text) - 1))
        yield text[start : start + length]


# fmt: off
ALPHABET = [
    " ", "  ", "\t", "\n", "\r\n", "\r", "\x0b", "\x0c", "\u00a0", "\u2028", "\u3000",
    "a", "Z", "word", "Word", "WORD", "camelCase", "snake_case", "ǅ", "ʰ", "é", "e\u0301",
    "\u0301", "Ω", "ж", "Жизнь", "世界", "ありがとう", "한국어", "עברית", "العربية", "हिन्दी",
    "0", "7", "12", "123", "1234567", "٣", "²", "Ⅻ", "3.14", "1e-9",
    "'s", "'S", "'t", "'LL", "'re", "'Ve", "'m", "'D", "'", "’s",
    ".", ",", ";", ":", "!", "?", "(", ")", "[]", "{}", "<>", "==", "->", "/", "//", "\\",
    "#", "@", "$", "%", "^", "&", "*", "-", "_", "+", "=", "|", "~", "`", "```", "```python",
    '"', "...", "—", "€", "🙂", "👩\u200d💻", "🇫🇷", "\u200b", "\ufeff", "\x00", "\x7f",
    "\ud800", "\udfff", "<|endoftext|>", "<|endofprompt|>", "<think>", "</think>",
]
# fmt: on


def awkward_strings(rng: random.Random, n: int) -> Iterator[str]:
    for _ in range(n):
        parts = []
        for _ in range(int(10 ** rng.uniform(0, 2.7))):
            parts.append(rng.choice(ALPHABET) * (rng.randint(1, 40) if rng.random() < 0.1 else 1))
        yield "".join(parts)


def replies(rng: random.Random, texts: list[str], n: int) -> Iterator[str]:
    for _ in range(n):
        think = "".join(file_pieces(rng, texts, rng.randint(1, 4)))
        code = "".join(file_pieces(rng, texts, 1))
        tail = "".join(awkward_strings(rng, 1))
        yield f"<think>\n{think}\n</think>\n\n```python\n{code}\n```\n{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strings", type=int, default=60_000, help="sample size (default 60000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    texts = text_files()
    third = args.strings // 3
    sample = [
        *file_pieces(rng, texts, third),
        *awkward_strings(rng, third),
        *replies(rng, texts, args.strings - 2 * third),
        # Whole files, the longest first: long inputs on one call.
        *sorted(texts, key=len, reverse=True)[:20],
    ]
    chars = sum(map(len, sample))
    print(f"sample: {len(sample)} strings, {chars:,} characters, from {len(texts)} files")

    with tempfile.TemporaryDirectory() as cache:
        reference = tiktoken_encoder(Path(cache))
        ours = bpe_openai_encoder()
        timings = {}
        results = {}
        for name, encode in (("tiktoken", reference), ("bpe-openai", ours)):
            start = time.perf_counter()
            results[name] = [encode(text) for text in sample]
            timings[name] = time.perf_counter() - start

    tokens = sum(map(len, results["tiktoken"]))
    differ = [
        k
        for k, (a, b) in enumerate(zip(results["tiktoken"], results["bpe-openai"], strict=True))
        if a != b
    ]
    count_differ = [
        k for k in differ if len(results["tiktoken"][k]) != len(results["bpe-openai"][k])
    ]
    print(f"tokens (tiktoken): {tokens:,}")
    for name, seconds in timings.items():
        print(f"{name:>10}: {seconds:.2f} s ({chars / seconds / 1e6:.1f} M characters/s)")
    print(
        f"strings whose token ids differ: {len(differ)}; whose counts differ: {len(count_differ)}"
    )
    for k in differ[:5]:
        print(
            f"  {sample[k][:120]!r}: tiktoken {len(results['tiktoken'][k])}, "
            f"bpe-openai {len(results['bpe-openai'][k])}"
        )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
