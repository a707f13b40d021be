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
from pathlib import Path
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
        k = 1 if self.ignore_n else int(body.get("n") or 1)
        choices = [
            {
                "index": i,
                "message": {"role": "assistant", "content": self.reply(body, i)},
                "finish_reason": "stop",
            }
            for i in range(k)
        ]
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", ""),
            "choices": choices,
            "usage": {"prompt_tokens": 10, "completion_tokens": 3 * k, "total_tokens": 10 + 3 * k},
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


# ---------------------------------------------------------------- tiny local models

WORDS = [
    "system", "user", "assistant", "hello", "world", "write", "a", "function", "add",
    "def", "return", "b", "the", "sum", "of", "and", "print", "code", "please", "x", "y",
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "abcdef",  # transformers' stop-string matcher probes the vocabulary with this word
]  # fmt: skip
SPECIALS = ["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }} {{ m['content'] }}<|im_end|>"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant{% endif %}"
)


@dataclass(frozen=True)
class TinyModels:
    """Checkpoint dirs sharing one word-level tokenizer.

    ``random``: random weights. ``always_eos``: emits end-of-sequence first, every time.
    ``never_eos``: emits ``hello`` forever. ``no_template``: tokenizer without a chat template.
    """

    random: Path
    always_eos: Path
    never_eos: Path
    no_template: Path
    eos_id: int
    hello_id: int


def _tokenizer(template: bool) -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(SPECIALS + WORDS)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="<unk>",
        pad_token="<pad>",
        eos_token="<|im_end|>",
        additional_special_tokens=["<|im_start|>"],
    )
    if template:
        tok.chat_template = CHAT_TEMPLATE
    return tok


def _save(path: Path, bias_token: int | None, template: bool = True) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = _tokenizer(template)
    config = LlamaConfig(
        vocab_size=len(SPECIALS) + len(WORDS),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        attention_bias=True,
        tie_word_embeddings=False,
        bos_token_id=None,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    if bias_token is not None:
        # A constant pushed into the residual stream by the last attention bias dominates the
        # final norm, so the hidden state points along `u`; the LM head row of `bias_token`
        # along `u` makes that token win by a huge margin at every step, sampled or not.
        with torch.no_grad():
            u = torch.zeros(config.hidden_size)
            u[0] = 1.0
            model.model.layers[-1].self_attn.o_proj.bias.copy_(50.0 * u)
            model.lm_head.weight[bias_token].copy_(10.0 * u)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    root = tmp_path_factory.mktemp("tiny-models")
    tok = _tokenizer(True)
    eos_id, hello_id = tok.eos_token_id, tok.convert_tokens_to_ids("hello")
    return TinyModels(
        random=_save(root / "random", None),
        always_eos=_save(root / "always-eos", eos_id),
        never_eos=_save(root / "never-eos", hello_id),
        no_template=_save(root / "no-template", None, template=False),
        eos_id=eos_id,
        hello_id=hello_id,
    )
