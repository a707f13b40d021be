"""Local generation with Hugging Face ``transformers``: CPU by default, GPU when asked.

Rows (conversation x sample) are sorted by prompt length and cut into batches of
``batch_size`` sequences, LEFT-padded (a decoder continues from the right end of every
row), and sampled with ``model.generate``. Sorting keeps rows of similar length together, so
little compute goes to padding.

On CPU all of a call's rows go through one batch of at most ``batch_size`` rows that is
refilled as replies end (:meth:`TransformersGenerator._generate_pool`): it is decoded in
segments of :data:`SEGMENT_TOKENS` (``generate`` continuing from its KV cache); between
segments the rows whose reply ended leave and waiting rows are prefilled and join, so the
batch stays full instead of decoding every row until its longest reply ends (replies of one
batch range from a few dozen tokens to the cap), and the samples of one prompt share a single
prefill of it (a repair or later-turn prompt runs to ~450 tokens, and prefill is most of its
cost on a CPU: ``benchmarks/embedded_prefill_decode.py``; the refill:
``benchmarks/generation_pool.py``). Stop strings, and every other device, use one
``generate`` call per batch.

With ``stop_at_program_end`` each row stops on the token that completes the line of its
program's closing fence (:class:`~cobalt_rl.llm.stopping.ProgramEndCriteria`), in segments as
in one call; the reply is then cut right after the fence and its token count is the tokens
generated up to that one.

Importing this module is cheap: torch and transformers are imported when a generator is
built. Nothing global changes unless asked: ``num_threads`` sets torch's process-wide thread
count, and a seeded call draws from a forked RNG, leaving torch's global RNG as it was.
"""

from __future__ import annotations

import functools
import gc
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from cobalt_rl.errors import ConfigError
from cobalt_rl.heap import trim_heap
from cobalt_rl.llm._shared import check_request, finished, to_chat
from cobalt_rl.llm.base import Completion, Conversations, GeneratorError, Replies, SamplingParams
from cobalt_rl.llm.decode import Batch, reserve, sample
from cobalt_rl.llm.stopping import ProgramEnd, ProgramEndCriteria
from cobalt_rl.records import Message

__all__ = ["DEVICE_PATTERN", "Dtype", "TransformersGenerator", "cpu_has_native_bf16", "native_bf16"]

Dtype = Literal["auto", "float32", "bfloat16", "float16"]
DEVICE_PATTERN = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")
SEGMENT_TOKENS = 64
"""Tokens per ``generate`` call on CPU, between which rows whose reply ended are dropped."""


class TransformersGenerator:
    """A :class:`~cobalt_rl.llm.base.Generator` running a causal LM with ``transformers``.

    The tokenizer's chat template turns a conversation into the prompt; generation stops at
    the end-of-sequence tokens of both the tokenizer and the model's generation config.
    Greedy calls (``temperature == 0``) generate each conversation once and copy the reply
    ``n`` times.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        device: str = "cpu",
        dtype: Dtype = "auto",
        batch_size: int = 64,
        num_threads: int | None = None,
        trust_remote_code: bool = False,
    ) -> None:
        """Load the tokenizer and model.

        Args:
            model: a directory holding a saved model and tokenizer, or a Hub id (offline
                machines need it in the local Hub cache).
            device: ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
            dtype: weights' dtype; ``auto`` on CPU is bfloat16 where the CPU computes it
                natively (:func:`cpu_has_native_bf16`; measured on SmolLM2-135M: 54 vs 66
                tokens/s) and float32 otherwise (emulated bf16 is slower); elsewhere
                the checkpoint's own dtype. ``float32`` or ``bfloat16`` force either.
            batch_size: sequences per forward batch (conversations x samples are cut into
                batches of this many).
            num_threads: set torch's intra-op threads (process-wide) to this many; 0 means
                one per CPU core; None leaves torch's setting alone.
            trust_remote_code: allow model code from the checkpoint (off: our own choice).

        Raises:
            ConfigError: a bad option, a model that cannot be loaded, a tokenizer without a
                chat template or without an end-of-sequence token.
        """
        _check_options(device, batch_size, num_threads)
        _prepare_torch(device, num_threads)
        source = str(model)
        tokenizer = _load_tokenizer(source, trust_remote_code)
        lm = _load_model(source, _weights_dtype(dtype, device), device, trust_remote_code)

        self._attach(source, device, batch_size, tokenizer, lm)

    def _attach(self, source: str, device: str, batch_size: int, tokenizer: Any, lm: Any) -> None:
        self.source = source
        self.device = device
        self.batch_size = batch_size
        # CPU: generate in segments, dropping finished rows and sharing the prefill of a
        # prompt's copies (measured: benchmarks/embedded_prefill_decode.py); 0 turns it off.
        self.segment_tokens = SEGMENT_TOKENS if device == "cpu" else 0
        # CPU: all of a call's rows through one refilled batch (_generate_pool); off: in
        # consecutive batches of batch_size, each drained to its last reply.
        self.continuous = device == "cpu"
        self._tokenizer: Any = tokenizer
        self._model: Any = lm
        self._eos_ids = _end_ids(tokenizer, lm)
        self._pad_id = int(
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        )
        self._program = ProgramEnd(tokenizer)

    @classmethod
    def around(
        cls, model: Any, tokenizer: Any, batch_size: int, eos_ids: list[int] | None = None
    ) -> TransformersGenerator:
        """A generator on a model that is already loaded (a trainer's), for its decode loop
        on token ids (:meth:`generate_ids`); it neither loads nor closes the model.
        ``eos_ids``: the tokens that end a reply (default: the tokenizer's and the model's
        generation config's)."""
        generator = cls.__new__(cls)
        device = str(next(model.parameters()).device)
        generator._attach(
            getattr(model, "name_or_path", "model"), device, batch_size, tokenizer, model
        )
        if eos_ids is not None:
            generator._eos_ids = list(eos_ids)
        return generator

    def generate_ids(self, prompts: list[list[int]], sampling: SamplingParams) -> list[list[int]]:
        """One reply per prompt of token ids, as generated: every row's new tokens, padded
        after its end (an end-of-sequence token, or the program's end where asked), through
        the refilled batch. Only where :meth:`segmented` (CPU, no stop strings)."""
        self._check_open()
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        generated = self._generate_pool([prompts[i] for i in order], sampling)
        out: list[list[int]] = [[] for _ in prompts]
        for i, tokens in zip(order, generated, strict=True):
            out[i] = tokens
        return out

    @property
    def tokenizer(self) -> Any:
        """The tokenizer (left padding)."""
        self._check_open()
        return self._tokenizer

    @property
    def model(self) -> Any:
        """The loaded ``transformers`` model (in eval mode)."""
        self._check_open()
        return self._model

    def _check_open(self) -> None:
        if self._model is None:
            raise GeneratorError(f"the generator for {self.source!r} is closed")

    def prompt_ids(self, conversation: Sequence[Message]) -> list[int]:
        """The token ids of ``conversation`` under the chat template, ready for a reply."""
        self._check_open()
        text = self._tokenizer.apply_chat_template(
            to_chat(conversation), tokenize=False, add_generation_prompt=True
        )
        ids: list[int] = self._tokenizer(text, add_special_tokens=False)["input_ids"]
        return ids

    def generate(self, conversations: Conversations, n: int, sampling: SamplingParams) -> Replies:
        """Sample ``n`` replies per conversation (see the module docstring for batching)."""
        self._check_open()
        check_request(conversations, n)
        import torch

        prompts = [self.prompt_ids(conv) for conv in conversations]
        copies = n if sampling.temperature > 0 else 1
        rows = [(i, j) for i in range(len(prompts)) for j in range(copies)]
        rows.sort(key=lambda row: len(prompts[row[0]]))
        done: dict[tuple[int, int], Completion] = {}
        devices = [torch.device(self.device).index or 0] if self.device.startswith("cuda") else []
        with (
            torch.random.fork_rng(devices=devices, enabled=sampling.seed is not None),
            torch.inference_mode(),
        ):
            if sampling.seed is not None:
                torch.manual_seed(sampling.seed)
            if self.segmented(sampling) and min(map(len, prompts)) > 1:
                ordered = [prompts[i] for i, _ in rows]
                generated = self._generate_pool(ordered, sampling)
                done.update(
                    (row, self._completion(tokens, len(prompt), sampling))
                    for row, tokens, prompt in zip(rows, generated, ordered, strict=True)
                )
            else:
                for start in range(0, len(rows), self.batch_size):
                    chunk = rows[start : start + self.batch_size]
                    outs = self._generate_batch([prompts[i] for i, _ in chunk], sampling)
                    done.update(zip(chunk, outs, strict=True))
        trim_heap()  # the call's KV caches back to the system (cobalt_rl.heap)
        return [[done[(i, j if copies > 1 else 0)] for j in range(n)] for i in range(len(prompts))]

    def segmented(self, sampling: SamplingParams) -> bool:
        """Whether a call's rows are decoded in segments (:meth:`_generate_pool`): on CPU,
        without stop strings (generate matches those over the whole reply), for a model
        whose cache is plain per-layer keys and values (no sliding window to merge)."""
        if not self.segment_tokens or sampling.stop:
            return False
        from transformers import DynamicCache

        probe = DynamicCache(config=self._model.config)
        return all(type(layer).__name__ == "DynamicLayer" for layer in probe.layers)

    def _generate_pool(self, prompts: list[list[int]], sampling: SamplingParams) -> list[list[int]]:
        """Every row's reply through one batch of at most ``batch_size`` rows, refilled.

        Rows are admitted in order (the caller sorts them by prompt length) and decoded in
        segments of ``segment_tokens`` (``generate`` continuing from the KV cache, so the
        sampling is its own); between segments the rows whose reply ended leave, and new
        rows take their places: their prompts are prefilled (the copies of one prompt share
        one prefill) and their KV cache joins the batch's, both left-padded to a common
        width, so the batch stays full instead of draining to its slowest row. Columns that
        are padding in every row are dropped as rows leave. With ``continuous`` off, rows
        are admitted only into an empty batch: consecutive batches, each drained.
        """
        eos = set(self._eos_ids)
        cap = sampling.max_new_tokens
        generated: list[list[int]] = [[] for _ in prompts]
        waiting = list(range(len(prompts)))[::-1]  # popped from the end: in order
        live: list[int] = []
        batch: Batch | None = None
        # admit a handful at once (a prefill each); drained batches: only when empty
        refill = max(1, self.batch_size // 8) if self.continuous else self.batch_size
        while waiting or live:
            room = self.batch_size - len(live)
            if waiting and (room >= refill or not live):
                new = [waiting.pop() for _ in range(min(room, len(waiting)))]
                part = self._prefill([prompts[i] for i in new])
                batch = part if batch is None else batch.joined(part, self._pad_id)
                live += new
            assert batch is not None
            step = min(self.segment_tokens, *(cap - len(generated[i]) for i in live))
            starts = [batch.ids.shape[1] - len(generated[i]) for i in live]
            criteria = ProgramEndCriteria(self._program, starts)
            width = batch.ids.shape[1]
            batch = self._decode(batch, step, sampling, criteria)
            keep = []
            for r, tokens in enumerate(batch.ids[:, width:].tolist()):
                index = live[r]
                generated[index] += tokens
                ended = sampling.stop_at_program_end and criteria.stopped[r]
                running = len(tokens) == step and not eos.intersection(tokens) and not ended
                if running and len(generated[index]) < cap:
                    keep.append(r)
            batch = batch.select(keep) if keep else None
            live = [live[r] for r in keep]
        return generated

    def _decode(
        self, batch: Batch, steps: int, sampling: SamplingParams, criteria: ProgramEndCriteria
    ) -> Batch:
        """``steps`` tokens for every row of ``batch``, one forward pass each (the last
        column fed, the cache holding the rest), sampled by :func:`_sample`. A row ends at an
        end-of-sequence token or, with ``stop_at_program_end``, where ``criteria`` stops it;
        it is padded from there on. Returns the batch grown by the new columns (fewer than
        ``steps`` when every row ended)."""
        import torch

        ids, mask, cache = batch.ids, batch.mask, batch.cache
        reserve(cache, steps)
        ended = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
        eos = torch.tensor(self._eos_ids, device=ids.device)
        for _ in range(steps):
            positions = mask.sum(dim=-1, keepdim=True) - 1
            logits = self._model(
                input_ids=ids[:, -1:],
                attention_mask=mask,
                position_ids=positions,
                **{self._cache_name: cache},
                use_cache=True,
            ).logits[:, -1, :]
            token = sample(logits, sampling).masked_fill(ended, self._pad_id)
            ids = torch.cat([ids, token[:, None]], dim=1)
            mask = torch.cat([mask, torch.ones_like(token)[:, None]], dim=1)
            ended |= torch.isin(token, eos)
            if sampling.stop_at_program_end:
                ended |= criteria(ids, None)
            if bool(ended.all()):
                break
        return Batch(ids, mask, cache)

    @functools.cached_property
    def _cache_name(self) -> str:
        """The forward's keyword for the KV cache: ``cache`` from transformers 5.2x,
        ``past_key_values`` before (5.17, the GPU image's, ignores an unknown ``cache`` and
        would decode every token without one)."""
        import inspect

        names = inspect.signature(self._model.forward).parameters
        return "cache" if "cache" in names else "past_key_values"

    def _prefill(self, prompts: list[list[int]]) -> Batch:
        """The rows of ``prompts`` (left-padded), with the KV cache of all but each row's last
        token: run once per distinct prompt (adjacent copies share it), then copied."""
        import torch
        from transformers import DynamicCache

        width = max(len(p) for p in prompts)
        distinct: list[list[int]] = []
        copy_of: list[int] = []
        for prompt in prompts:
            if not distinct or distinct[-1] != prompt:
                distinct.append(prompt)
            copy_of.append(len(distinct) - 1)
        ids, mask = self._left_pad(distinct, width)
        cache = DynamicCache(config=self._model.config)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        self._model(
            input_ids=ids[:, :-1],
            attention_mask=mask[:, :-1],
            position_ids=positions[:, :-1],
            **{self._cache_name: cache},
            use_cache=True,
            logits_to_keep=1,
        )
        rows = torch.tensor(copy_of, device=self.device)
        cache.batch_select_indices(rows)
        return Batch(ids[rows], mask[rows], cache)

    def _generate_batch(
        self, prompts: list[list[int]], sampling: SamplingParams
    ) -> list[Completion]:
        width = max(len(p) for p in prompts)
        ids, mask = self._left_pad(prompts, width)
        out = self._model.generate(
            input_ids=ids,
            attention_mask=mask,
            **self._generate_kwargs(sampling),
            **self._program_stop(sampling, width)[0],
        )
        generated = out[:, width:].tolist()
        return [
            self._completion(tokens, len(p), sampling)
            for tokens, p in zip(generated, prompts, strict=True)
        ]

    def _left_pad(self, prompts: Sequence[list[int]], width: int) -> tuple[Any, Any]:
        import torch

        ids = [[self._pad_id] * (width - len(p)) + p for p in prompts]
        mask = [[0] * (width - len(p)) + [1] * len(p) for p in prompts]
        return (
            torch.tensor(ids, device=self.device),
            torch.tensor(mask, device=self.device),
        )

    def _generate_kwargs(self, sampling: SamplingParams) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_new_tokens": sampling.max_new_tokens,
            "pad_token_id": self._pad_id,
            "eos_token_id": self._eos_ids,
        }
        if sampling.temperature > 0:
            kwargs.update(
                do_sample=True,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                top_k=sampling.top_k,
            )
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if sampling.stop:
            kwargs.update(stop_strings=list(sampling.stop), tokenizer=self._tokenizer)
        return kwargs

    def _program_stop(
        self, sampling: SamplingParams, width: int | list[int]
    ) -> tuple[dict[str, Any], ProgramEndCriteria | None]:
        """``generate``'s ``stopping_criteria`` argument ending each row at the end of its
        program (none unless asked), and the criterion, to read which rows it stopped."""
        if not sampling.stop_at_program_end:
            return {}, None
        from transformers import StoppingCriteriaList

        criteria = ProgramEndCriteria(self._program, width)
        return {"stopping_criteria": StoppingCriteriaList([criteria])}, criteria

    def _completion(
        self, tokens: list[int], prompt_len: int, sampling: SamplingParams
    ) -> Completion:
        eos = set(self._eos_ids)
        end = next((k for k, t in enumerate(tokens) if t in eos), None)
        if end is not None:
            kept, count = tokens[:end], end + 1
        else:
            kept = list(tokens)
            while kept and kept[-1] == self._pad_id:  # rows that ended early are padded
                kept.pop()
            count = len(kept)
        truncated = end is None and count >= sampling.max_new_tokens
        if sampling.stop_at_program_end:
            ended = self._program.length(kept)
            if ended is not None:  # stopped there; what follows is the batch's padding
                kept, count, truncated = kept[:ended], ended, False
        text = self._program.decode(kept)
        # A row with no end-of-sequence token that stopped short of the cap was padded out
        # because its batch ended: it finished for a reason other than the length.
        return finished(
            text,
            sampling,
            prompt_tokens=prompt_len,
            completion_tokens=count,
            truncated=truncated,
        )

    def close(self) -> None:
        """Drop the model and tokenizer and free accelerator memory."""
        if self._model is None:
            return
        self._model = None
        self._tokenizer = None
        gc.collect()
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX), where bf16 pays.

    Read from the ``/proc/cpuinfo`` flags (``avx512_bf16``, ``amx_bf16``); where there is no
    such file (macOS, Windows), from oneDNN's own check in torch. Without these instructions
    torch emulates bf16 through fp32 and it is slower than fp32, not faster.

    Args:
        cpuinfo: the text of ``/proc/cpuinfo`` (tests pass one); None reads the file.
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            cpuinfo = ""
    if cpuinfo:
        flags = {
            flag
            for line in cpuinfo.splitlines()
            if line.startswith("flags")
            for flag in line.partition(":")[2].split()
        }
        return bool(flags & {"avx512_bf16", "amx_bf16"})
    import torch

    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check()) if check is not None else False


def native_bf16(device: str) -> bool:
    """Whether bf16 is the faster choice on ``device`` (cpu, cuda, cuda:N, mps)."""
    if device == "cpu":
        return cpu_has_native_bf16()
    if device.startswith("cuda"):
        import torch

        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return False


def _check_options(device: str, batch_size: int, num_threads: int | None) -> None:
    """Refuse options that no model could run with, before torch is imported."""
    if not DEVICE_PATTERN.match(device):
        raise ConfigError(
            f"device {device!r} is not one of cpu, cuda, cuda:N, mps: pick one of those"
        )
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
    if num_threads is not None and num_threads < 0:
        raise ConfigError(f"num_threads must be 0 (all cores) or more, got {num_threads}")


def _prepare_torch(device: str, num_threads: int | None) -> None:
    """Check that ``device`` exists and set torch's thread count when asked (process-wide)."""
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for, but torch sees no CUDA GPU")
    if num_threads is not None:
        torch.set_num_threads(num_threads or os.cpu_count() or 1)


def _load_tokenizer(source: str, trust_remote_code: bool) -> Any:
    """The checkpoint's tokenizer, checked for a chat template and an end-of-sequence token,
    padding on the left with a pad token (the end-of-sequence token where it has none)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot load a tokenizer from {source!r}: {error}") from error
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError(
            f"the tokenizer at {source!r} has no chat template: use an instruct/chat "
            "model, or save one with tokenizer.chat_template set"
        )
    if tokenizer.eos_token_id is None:
        raise ConfigError(f"the tokenizer at {source!r} has no eos_token: set one")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def _weights_dtype(dtype: Dtype, device: str) -> Any:
    """The torch dtype to load the weights in; ``auto`` on CPU is bfloat16 only where the CPU
    computes it natively, else float32 (elsewhere ``auto`` keeps the checkpoint's own)."""
    import torch

    if dtype == "auto" and device == "cpu":
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    return {
        "auto": "auto",
        "float32": torch.float32,
        "bfloat16": torch.bfloat16,
        "float16": torch.float16,
    }[dtype]


def _load_model(source: str, torch_dtype: Any, device: str, trust_remote_code: bool) -> Any:
    """The checkpoint's causal LM on ``device``, in eval mode."""
    from transformers import AutoModelForCausalLM

    try:
        lm: Any = AutoModelForCausalLM.from_pretrained(
            source, dtype=torch_dtype, trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot load a causal LM from {source!r}: {error}") from error
    lm.to(device)
    lm.eval()
    return lm


def _end_ids(tokenizer: Any, lm: Any) -> list[int]:
    """The tokens that end a reply: the tokenizer's end-of-sequence token and those of the
    model's generation config."""
    ids: set[int] = {int(tokenizer.eos_token_id)}
    config_eos = lm.generation_config.eos_token_id
    if isinstance(config_eos, int):
        ids.add(config_eos)
    elif config_eos:
        ids.update(int(token) for token in config_eos)
    return sorted(ids)
