"""Any OpenAI-compatible chat server (vLLM, SGLang, llama.cpp, TGI, OpenAI itself).

Requests go out through the official ``openai`` client from a thread pool of ``concurrency``
workers. The client's own retries are switched off; ours retry rate limits (429), server
errors (5xx, 408, 409: the set the ``openai`` client itself retries), dropped connections and
timeouts, with exponential backoff and jitter, at most ``max_retries`` times per request,
honouring a ``Retry-After`` header up to the backoff cap. Anything else the server rejects
(400, 401, 404...) fails at once. Every request has a ``timeout``; the first request of a call
to fail for good makes the others give up at their next retry.

``n`` replies come either from the API's ``n`` parameter (one request per conversation) or
from ``n`` separate requests (``n_strategy="repeat"``; with a seed, request ``j`` uses
``seed + j`` so the samples differ). Some servers ignore ``n``: when a reply has fewer choices
than asked, the missing ones are requested one at a time.

``stop_at_program_end`` is applied to the replies as they come back: the text is cut right
after the program, as a local model stopping there would leave it, but the server generated
on (a stop string cannot tell the closing fence of the first code block from an opening bare
fence), so no time is saved and ``completion_tokens`` is the server's count of what it
generated.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal

from cobalt_rl.errors import ConfigError
from cobalt_rl.llm._shared import check_request, finished, to_chat
from cobalt_rl.llm.base import Completion, Conversations, GeneratorError, Replies, SamplingParams
from cobalt_rl.records import Message

__all__ = ["NStrategy", "OpenAIGenerator"]

NStrategy = Literal["api", "repeat"]
_RETRY_STATUS = frozenset({408, 409, 429})


class OpenAIGenerator:
    """A :class:`~cobalt_rl.llm.base.Generator` calling an OpenAI-compatible chat API."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        concurrency: int = 8,
        timeout: float = 120.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        n_strategy: NStrategy = "api",
    ) -> None:
        """Set up the client (no request is made yet).

        Args:
            base_url: the server's API root, e.g. ``http://127.0.0.1:8000/v1``.
            model: the model name the server knows.
            api_key: the key sent as a bearer token; None sends ``EMPTY`` (local servers
                accept anything). Never read from the environment here: the config layer
                reads ``api_key_env`` explicitly.
            concurrency: requests in flight at once.
            timeout: seconds a request may wait on the server before it is abandoned (and
                retried); httpx applies it to each phase (connect, each read, write).
            max_retries: retries per request after the first try (0: no retry).
            backoff_base: seconds before the first retry; doubled on each later one.
            backoff_max: the most seconds one wait may last.
            n_strategy: ``api`` (the ``n`` parameter) or ``repeat`` (``n`` requests).

        Raises:
            ConfigError: a bad option.
        """
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"base_url {base_url!r} must start with http:// or https:// "
                "(e.g. http://127.0.0.1:8000/v1)"
            )
        if not model:
            raise ConfigError("model is empty: name the model the server serves")
        if concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
        if timeout <= 0:
            raise ConfigError(f"timeout must be positive seconds, got {timeout}")
        if max_retries < 0:
            raise ConfigError(f"max_retries must be 0 or more, got {max_retries}")
        if backoff_base < 0 or backoff_max < backoff_base:
            raise ConfigError(
                f"need 0 <= backoff_base <= backoff_max, got {backoff_base} and {backoff_max}"
            )
        if n_strategy not in ("api", "repeat"):
            raise ConfigError(f"n_strategy must be 'api' or 'repeat', got {n_strategy!r}")

        import openai

        self.base_url = base_url
        self.model = model
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.n_strategy: NStrategy = n_strategy
        self._client: Any = openai.OpenAI(
            base_url=base_url, api_key=api_key or "EMPTY", timeout=timeout, max_retries=0
        )
        self._rng = random.Random()
        self._rng_lock = threading.Lock()
        self._closed = False

    def generate(self, conversations: Conversations, n: int, sampling: SamplingParams) -> Replies:
        """Sample ``n`` replies per conversation (see the module docstring)."""
        if self._closed:
            raise GeneratorError(f"the generator for {self.base_url} is closed")
        check_request(conversations, n)
        results: Replies = [[] for _ in conversations]
        if self.n_strategy == "api":
            first = [(i, n, sampling.seed) for i in range(len(conversations))]
            self._run(conversations, first, sampling, results)
            for row in results:
                del row[n:]
        # Repeated requests: everything under "repeat", the shortfall when a server ignored n.
        rest = [
            (i, 1, None if sampling.seed is None else sampling.seed + j)
            for i, row in enumerate(results)
            for j in range(len(row), n)
        ]
        self._run(conversations, rest, sampling, results)
        for index, row in enumerate(results):
            if len(row) != n:
                raise GeneratorError(
                    f"{self.base_url} returned {len(row)} replies to conversation {index}, not {n}"
                )
        return results

    def _run(
        self,
        conversations: Conversations,
        tasks: list[tuple[int, int, int | None]],
        sampling: SamplingParams,
        results: Replies,
    ) -> None:
        if not tasks:
            return
        abandon = threading.Event()  # set on the first failure: the other requests give up
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(tasks))) as pool:
            futures: list[Future[list[Completion]]] = [
                pool.submit(self._request, conversations[i], count, sampling, seed, abandon)
                for i, count, seed in tasks
            ]
            try:
                for (index, _, _), future in zip(tasks, futures, strict=True):
                    results[index].extend(future.result())
            except BaseException:
                abandon.set()
                for pending in futures:
                    pending.cancel()
                raise

    def _request(
        self,
        conversation: Sequence[Message],
        count: int,
        sampling: SamplingParams,
        seed: int | None,
        abandon: threading.Event,
    ) -> list[Completion]:
        import openai

        body: dict[str, Any] = {
            "model": self.model,
            "messages": to_chat(conversation),
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
        }
        if count > 1:
            body["n"] = count
        if seed is not None:
            body["seed"] = seed
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if sampling.top_k:
            body["extra_body"] = {"top_k": sampling.top_k}
        for attempt in range(self.max_retries + 1):
            if abandon.is_set():
                raise GeneratorError("request abandoned: another request of the call failed")
            try:
                response = self._client.chat.completions.create(**body)  # bounded by timeout
            except openai.APIStatusError as status_error:
                status = status_error.status_code
                if status not in _RETRY_STATUS and status < 500:
                    raise GeneratorError(
                        f"{self.base_url} rejected the request (HTTP {status}): "
                        f"{status_error.message}"
                    ) from status_error
                error: Exception = status_error
                what = f"HTTP {status}"
                retry_after = _retry_after(status_error)
            except openai.APIConnectionError as connection_error:
                error = connection_error
                timed_out = isinstance(connection_error, openai.APITimeoutError)
                what = f"timed out after {self.timeout:g} s" if timed_out else "connection failed"
                retry_after = None
            else:
                return _completions(response, sampling)
            if attempt == self.max_retries:
                raise GeneratorError(
                    f"{self.base_url}: request failed after {attempt + 1} attempt(s), last: "
                    f"{what} ({error})"
                ) from error
            abandon.wait(self._backoff(attempt, retry_after))
        raise AssertionError("unreachable: the loop returns or raises")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter, in [d/2, d] for d = base * 2**attempt (capped)."""
        delay = min(self.backoff_max, self.backoff_base * 2.0**attempt)
        with self._rng_lock:
            delay *= 0.5 + 0.5 * self._rng.random()
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max))
        return delay

    def close(self) -> None:
        """Close the HTTP client."""
        if not self._closed:
            self._closed = True
            self._client.close()


def _retry_after(error: Any) -> float | None:
    try:
        value = error.response.headers.get("retry-after")
        return float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


def _completions(response: Any, sampling: SamplingParams) -> list[Completion]:
    choices = sorted(response.choices or [], key=lambda choice: choice.index)
    texts = [(c.message.content or "") if c.message is not None else "" for c in choices]
    usage = getattr(response, "usage", None)
    prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
    total = int(getattr(usage, "completion_tokens", 0) or 0)
    # The API reports one total for all choices; share it out by length (exact for n = 1).
    weights = [max(len(t), 1) for t in texts]
    shares = [total * w // sum(weights) for w in weights] if texts else []
    if shares:
        shares[-1] += total - sum(shares)
    # Servers drop the stop string themselves; some (older llama.cpp) do not: finished() cuts.
    return [
        finished(
            text,
            sampling,
            prompt_tokens=prompt_tokens,
            completion_tokens=share,
            truncated=choice.finish_reason == "length",
        )
        for choice, text, share in zip(choices, texts, shares, strict=True)
    ]
