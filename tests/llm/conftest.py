"""Fixtures for the generator tests: a scriptable fake OpenAI server and tiny local models.

No test here reaches the network: the Hub is switched off for transformers, models are built
from random weights in a temp dir, and the "server" is a thread on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

# Must be set before huggingface_hub is first imported (it reads these once).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

# ---------------------------------------------------------------- fake OpenAI-compatible server

Action = int | float | str
"""What the server does with the next request: ``"ok"``; an HTTP status (``429``, ``500``)
answered with an error body; or a float: sleep that many seconds, then answer ``"ok"``."""


@dataclass
class FakeOpenAIServer:
    """A chat-completions endpoint whose behaviour a test scripts request by request."""

    base_url: str = ""
    script: list[Action] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    ignore_n: bool = False
    reply: Callable[[dict[str, Any], int], str] = lambda body, i: (
        f"reply {i} to: {body['messages'][-1]['content']}"
    )
    in_flight: int = 0
    max_in_flight: int = 0
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_action(self, body: dict[str, Any]) -> Action:
        with self.lock:
            self.requests.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.script.pop(0) if self.script else "ok"

    def done(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        count = 1 if self.ignore_n else int(body.get("n") or 1)
        choices = [
            {
                "index": i,
                "message": {"role": "assistant", "content": self.reply(body, i)},
                "finish_reason": "stop",
            }
            for i in range(count)
        ]
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", ""),
            "choices": choices,
            "usage": {
                "prompt_tokens": 10,
                "completion_tokens": 3 * count,
                "total_tokens": 10 + 3 * count,
            },
        }


def _handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            action = server.next_action(body)
            try:
                if server.delay:
                    time.sleep(server.delay)
                if isinstance(action, float):
                    time.sleep(action)
                    action = "ok"
                if action == "ok":
                    self._send(200, server.completion(body))
                else:
                    status = int(action)
                    self._send(
                        status,
                        {"error": {"message": f"scripted {status}", "type": "fake", "code": None}},
                    )
            finally:
                server.done()

    return Handler


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A fake server on a free port of 127.0.0.1; ``base_url`` ends in ``/v1``."""
    state = FakeOpenAIServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
