"""CLI flags come from the config models, and bad values give errors naming the flag."""

from __future__ import annotations

import argparse

import pytest
from pydantic import BaseModel, Field

from cobalt_rl.config import add_model_arguments, model_from_args
from cobalt_rl.errors import ConfigError


class DemoConfig(BaseModel):
    out: str = Field(description="Where to write.")
    samples: int = Field(16, ge=1, description="Samples per problem.")
    stop: bool = Field(False, description="Stop early.")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    add_model_arguments(p, DemoConfig)
    return p


def test_defaults_and_flags() -> None:
    cfg = model_from_args(DemoConfig, parser().parse_args(["--out", "x", "--stop"]))
    assert cfg == DemoConfig(out="x", samples=16, stop=True)


def test_help_comes_from_field_docs() -> None:
    text = parser().format_help()
    assert "Samples per problem. (default: 16)" in text


def test_bad_value_names_the_flag() -> None:
    with pytest.raises(ConfigError, match="--samples"):
        model_from_args(DemoConfig, parser().parse_args(["--out", "x", "--samples", "0"]))


def test_every_subcommand_help_renders(capsys: pytest.CaptureFixture[str]) -> None:
    from cobalt_rl.cli.main import COMMANDS, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    seen = []
    for name, p in sub.choices.items():
        for action in p._actions:  # nested verbs (problems convert, export verl...)
            if isinstance(action, argparse._SubParsersAction):
                for verb in action.choices.values():
                    verb.format_help()
        assert p.format_help()
        seen.append(name)
    assert set(COMMANDS) <= set(seen)
