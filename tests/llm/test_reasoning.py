"""What of a reply goes back into the history: reasoning dropped, length capped."""

from __future__ import annotations

import pytest

from cobalt_rl.llm import DEFAULT_MAX_REPLY_CHARS, cap_reply, strip_reasoning


def test_strip_reasoning_drops_up_to_the_last_think_end() -> None:
    reply = "<think>a</think>not this</think>\n\nThe answer."
    assert strip_reasoning(reply) == "The answer."


def test_strip_reasoning_without_think_is_identity() -> None:
    assert strip_reasoning("  plain reply\n") == "  plain reply\n"


def test_unclosed_think_is_left_alone() -> None:
    assert strip_reasoning("<think>still thinking") == "<think>still thinking"


def test_cap_reply_keeps_the_head() -> None:
    assert DEFAULT_MAX_REPLY_CHARS == 6000
    long = "x" * 5000 + "y" * 2000
    assert cap_reply(long) == "x" * 5000 + "y" * 1000
    assert cap_reply("short") == "short"
    assert cap_reply("abcdef", max_chars=3) == "abc"
    with pytest.raises(ValueError, match="max_chars"):
        cap_reply("a", max_chars=0)
