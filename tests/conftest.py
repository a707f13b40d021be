"""Shared fixtures: tiny local models (random weights, a word-level tokenizer built here).

No test reaches the network: the Hub is switched off for transformers before it is imported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Must be set before huggingface_hub is first imported (it reads these once).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

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
