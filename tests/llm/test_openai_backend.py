"""The OpenAI-compatible backend against a scripted local server (see conftest)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from cobalt_rl.errors import ConfigError
from cobalt_rl.llm import GeneratorError, SamplingParams
from cobalt_rl.llm.openai_backend import OpenAIGenerator
from cobalt_rl.records import Message

from .conftest import FakeOpenAIServer

pytest.importorskip("openai")

CONVS = [
    [Message(role="user", content="first")],
    [Message(role="system", content="be brief"), Message(role="user", content="second")],
]
SAMPLING = SamplingParams(temperature=0.7, top_p=0.9, max_new_tokens=64, seed=7)


def _gen(server: FakeOpenAIServer, **options: Any) -> OpenAIGenerator:
    options = {"backoff_base": 0.001, "backoff_max": 0.01, **options}
    return OpenAIGenerator(server.base_url, "fake-model", **options)


def test_n_via_the_api_parameter(openai_server: FakeOpenAIServer) -> None:
    gen = _gen(openai_server)
    out = gen.generate(CONVS, 3, SAMPLING)
    gen.close()

    assert [[c.text for c in row] for row in out] == [
        [f"reply {i} to: first" for i in range(3)],
        [f"reply {i} to: second" for i in range(3)],
    ]
    assert len(openai_server.requests) == 2
    body = openai_server.requests[0]
    assert body["n"] == 3 and body["model"] == "fake-model"
    assert body["temperature"] == 0.7 and body["top_p"] == 0.9
    assert body["max_tokens"] == 64 and body["seed"] == 7
    assert "stop" not in body and "top_k" not in body
    for row in out:
        assert all(c.prompt_tokens == 10 and c.finish_reason == "stop" for c in row)
        assert sum(c.completion_tokens for c in row) == 9  # the server's total, shared out


def test_n_via_repeated_requests(openai_server: FakeOpenAIServer) -> None:
    gen = _gen(openai_server, n_strategy="repeat")
    out = gen.generate(CONVS, 3, SAMPLING)

    assert [len(row) for row in out] == [3, 3]
    assert len(openai_server.requests) == 6
    assert all("n" not in body for body in openai_server.requests)
    seeds = sorted(
        b["seed"] for b in openai_server.requests if b["messages"][-1]["content"] == "first"
    )
    assert seeds == [7, 8, 9]  # distinct seeds, so the samples differ
    assert all(c.completion_tokens == 3 for row in out for c in row)


def test_server_ignoring_n_is_topped_up(openai_server: FakeOpenAIServer) -> None:
    openai_server.ignore_n = True
    out = _gen(openai_server).generate(CONVS[:1], 3, SAMPLING)
    assert len(out[0]) == 3
    assert len(openai_server.requests) == 3  # one asking for n=3, two more for the shortfall


def test_sampling_fields_are_forwarded(openai_server: FakeOpenAIServer) -> None:
    openai_server.reply = lambda body, i: "def f():\n    return 1\n```\ntrailing"
    sampling = SamplingParams(top_k=20, stop=["```"], max_new_tokens=5)
    (reply,) = _gen(openai_server).generate(CONVS[:1], 1, sampling)[0]
    body = openai_server.requests[0]
    assert body["stop"] == ["```"] and body["top_k"] == 20 and "seed" not in body
    # A server that leaves the stop string in the text is cut client-side.
    assert reply.text == "def f():\n    return 1\n" and reply.finish_reason == "stop"


def test_program_end_cuts_the_servers_reply(openai_server: FakeOpenAIServer) -> None:
    openai_server.reply = lambda body, i: "```python\nprint(1)\n```\nNow a long ramble"
    sampling = SamplingParams(max_new_tokens=64, stop_at_program_end=True)
    (reply,) = _gen(openai_server).generate(CONVS[:1], 1, sampling)[0]
    assert "stop_at_program_end" not in openai_server.requests[0]  # ours, not the API's
    assert reply.text == "```python\nprint(1)\n```" and reply.finish_reason == "stop"
    assert reply.completion_tokens == 3  # the server's count of what it generated


def test_rate_limit_then_success_backs_off(openai_server: FakeOpenAIServer) -> None:
    openai_server.script = [429, 503]
    gen = _gen(openai_server, max_retries=3)
    out = gen.generate(CONVS[:1], 1, SAMPLING)
    assert out[0][0].text == "reply 0 to: first"
    assert len(openai_server.requests) == 3


def test_server_errors_exhaust_retries_with_a_clear_error(openai_server: FakeOpenAIServer) -> None:
    openai_server.script = [500, 500, 500, 500]
    gen = _gen(openai_server, max_retries=2)
    with pytest.raises(GeneratorError, match=r"failed after 3 attempt\(s\).*HTTP 500"):
        gen.generate(CONVS[:1], 1, SAMPLING)
    assert len(openai_server.requests) == 3


def test_client_errors_are_not_retried(openai_server: FakeOpenAIServer) -> None:
    openai_server.script = [400]
    with pytest.raises(GeneratorError, match=r"rejected the request.*HTTP 400"):
        _gen(openai_server, max_retries=5).generate(CONVS[:1], 1, SAMPLING)
    assert len(openai_server.requests) == 1


def test_slow_server_times_out(openai_server: FakeOpenAIServer) -> None:
    openai_server.script = [2.0]
    gen = _gen(openai_server, timeout=0.3, max_retries=0)
    start = time.monotonic()
    with pytest.raises(GeneratorError, match=r"timed out after 0\.3 s"):
        gen.generate(CONVS[:1], 1, SAMPLING)
    assert time.monotonic() - start < 1.5


def test_timeout_is_retried(openai_server: FakeOpenAIServer) -> None:
    openai_server.script = [1.0]
    out = _gen(openai_server, timeout=0.3, max_retries=1).generate(CONVS[:1], 1, SAMPLING)
    assert out[0][0].text == "reply 0 to: first"


def test_unreachable_server_is_a_connection_error() -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gen = OpenAIGenerator(
        f"http://127.0.0.1:{port}/v1", "m", max_retries=1, backoff_base=0.001, backoff_max=0.01
    )
    with pytest.raises(GeneratorError, match="connection failed"):
        gen.generate(CONVS[:1], 1, SAMPLING)


def test_concurrency_bounds_requests_in_flight(openai_server: FakeOpenAIServer) -> None:
    openai_server.delay = 0.05
    convs = [[Message(role="user", content=f"q{i}")] for i in range(6)]
    out = _gen(openai_server, concurrency=2).generate(convs, 1, SAMPLING)
    assert [row[0].text for row in out] == [f"reply 0 to: q{i}" for i in range(6)]
    assert openai_server.max_in_flight <= 2


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"base_url": "127.0.0.1:8000"}, "http"),
        ({"model": ""}, "model"),
        ({"concurrency": 0}, "concurrency"),
        ({"timeout": 0}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"n_strategy": "both"}, "n_strategy"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"base_url": "http://127.0.0.1:1/v1", "model": "m", **options}
    with pytest.raises(ConfigError, match=match):
        OpenAIGenerator(**args)
