"""Fixtures for the generator tests: a scriptable fake OpenAI server and tiny local models.

No test here reaches the network: the Hub is switched off for transformers, models are built
from random weights in a temp dir, and the "server" is a thread on 127.0.0.1.
"""

from __future__ import annotations

import itertools
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


# ---------------------------------------------------------------- a model that follows a script

SCRIPTS = {
    # a program, then rambling that never ends
    "program": ["Here:\n", "```python\n", "def f():\n", "    return 1\n", "```", "\n\n", "Now",
                " I", " ramble"],
    # the closing fence and its newline in one token, then rambling
    "joined": ["```Python\n", "print(2)\n", "```\n", "Bye", " bye"],
    # a block that never closes
    "unclosed": ["```py\n", "x = 1\n", "y = 2\n"],
    # no code; ends with the end-of-sequence token
    "plain": ["Hi", " there.", "<|im_end|>"],
}  # fmt: skip
"""Prompt word -> the tokens the scripted model writes after it, in order; the last one
repeats for ever (unless it is the end-of-sequence token)."""


@dataclass(frozen=True)
class ScriptedModel:
    """A checkpoint whose replies follow :data:`SCRIPTS` exactly (sampled or greedy): a
    prompt that is one of the script's names gets that script."""

    path: Path
    eos_id: int


def _scripted_tokenizer() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tokens = ["<unk>", "<pad>", "<|im_end|>", "abcdef", *SCRIPTS]  # abcdef: see tests/conftest.py
    tokens += [t for script in SCRIPTS.values() for t in script if t not in tokens]
    core = Tokenizer(
        models.WordLevel(vocab={t: i for i, t in enumerate(tokens)}, unk_token="<unk>")
    )
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.decoder = decoders.Fuse()  # the tokens' own text, newlines and spaces included
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="<unk>",
        pad_token="<pad>",
        eos_token="<|im_end|>",
        clean_up_tokenization_spaces=False,
    )
    tok.chat_template = "{{ messages[-1]['content'] }}"
    return tok


@pytest.fixture(scope="session")
def scripted_model(tmp_path_factory: pytest.TempPathFactory) -> ScriptedModel:
    """A Llama whose next token depends only on the current one (a bigram table): attention
    and MLP write nothing, so the residual stream is the token's one-hot embedding, and the LM
    head maps it to its successor by a margin no sampling overturns."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = _scripted_tokenizer()
    vocab = len(tok)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=vocab + vocab % 2,  # RoPE wants an even head size
        intermediate_size=8,
        num_hidden_layers=1,
        num_attention_heads=1,
        num_key_value_heads=1,
        max_position_embeddings=512,
        tie_word_embeddings=False,
        bos_token_id=None,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    successor: dict[int, int] = {}
    for name, script in SCRIPTS.items():
        ids = [tok.convert_tokens_to_ids(t) for t in [name, *script]]
        successor.update(itertools.pairwise(ids))
        if script[-1] != "<|im_end|>":
            successor[ids[-1]] = ids[-1]
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        model.model.embed_tokens.weight.copy_(torch.eye(vocab, config.hidden_size))
        model.model.norm.weight.fill_(1.0)
        for layer in model.model.layers:
            layer.input_layernorm.weight.fill_(1.0)
            layer.post_attention_layernorm.weight.fill_(1.0)
        for token, following in successor.items():
            model.lm_head.weight[following, token] = 10.0
    path = tmp_path_factory.mktemp("scripted-model")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return ScriptedModel(path=path, eos_id=int(tok.eos_token_id))
