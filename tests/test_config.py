"""CLI flags come from the config models, and bad values give errors naming the flag."""

from __future__ import annotations

import argparse

import pytest
from pydantic import BaseModel, Field

from cobalt_rl.cli.flags import add_model_arguments, model_from_args
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


def test_command_help_comes_from_its_function_docstring() -> None:
    from cobalt_rl.cli.flags import add_command

    def demo(args: argparse.Namespace) -> int:
        """Do the demo thing.

        At length: what the demo does, and how.
        """
        return 0

    def undocumented(args: argparse.Namespace) -> int:
        return 0

    top = argparse.ArgumentParser(prog="cobalt")
    sub = top.add_subparsers()
    command = add_command(sub, "demo", DemoConfig, demo)
    assert "demo Do the demo thing." in " ".join(top.format_help().split())
    assert command.description == "At length: what the demo does, and how."
    assert command.get_default("func") is demo
    with pytest.raises(TypeError, match="needs a docstring"):
        add_command(sub, "undocumented", DemoConfig, undocumented)


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


def test_union_sections_get_every_variants_flags_and_name_a_misplaced_one() -> None:
    """A discriminated union (sandbox backends) gets the flags of all its variants; a flag of
    another variant is refused by name; nested models (limits) get prefixed flags."""
    from cobalt_rl.sandbox.factory import SandboxConfig, default_sandbox_config

    class WithSandbox(BaseModel):
        sandbox: SandboxConfig = Field(default_factory=default_sandbox_config)

    p = argparse.ArgumentParser()
    add_model_arguments(p, WithSandbox)
    cfg = model_from_args(WithSandbox, p.parse_args(["--sandbox-limits-timeout-s", "9"]))
    assert cfg.sandbox.backend == "local" and cfg.sandbox.limits.timeout_s == 9
    assert cfg.sandbox.limits.program_timeout_s == 30
    args = ["--sandbox-backend", "http", "--sandbox-urls", "http://h:1"]
    cfg = model_from_args(WithSandbox, p.parse_args(args))
    assert cfg.sandbox.backend == "http"
    with pytest.raises(ConfigError, match=r"--sandbox-urls: not an option of 'local'"):
        model_from_args(WithSandbox, p.parse_args(["--sandbox-urls", "http://h:1"]))


def test_flattened_section_flags_have_no_prefix() -> None:
    from cobalt_rl.cli.main import build_parser
    from cobalt_rl.cli.rollout import load_config

    parser = build_parser()
    base = ["rollout", "--problems", "p.jsonl", "--out", "o.jsonl"]
    cfg = load_config(parser.parse_args([*base, "--backend", "openai", "--base-url", "http://a",
                                         "--model", "m"]))  # fmt: skip
    assert cfg.generator.backend == "openai" and cfg.generator.model == "m"
    with pytest.raises(ConfigError, match=r"--base-url: not an option of 'embedded'"):
        load_config(parser.parse_args([*base, "--base-url", "http://a"]))


def test_flattened_library_config_keeps_its_flag_names() -> None:
    """``cobalt contexts`` holds the library's ContextSettings as one field whose flags take
    no prefix (``--top-n``, not ``--settings-top-n``); the section's own check names no flag
    it does not have."""
    from cobalt_rl.cli.contexts import ContextsConfig
    from cobalt_rl.cli.main import build_parser
    from cobalt_rl.contexts.build import ContextSettings

    parser = build_parser()
    base = ["contexts", "--trajectories", "t.jsonl", "--problems", "p.jsonl", "--out", "c"]
    args = parser.parse_args([*base, "--top-n", "8", "--keep-m", "2", "--split", "validation"])
    cfg = model_from_args(ContextsConfig, args)
    assert cfg.settings == ContextSettings(top_n=8, keep_m=2, split="validation")
    with pytest.raises(ConfigError, match=r"\(config\): Value error, keep_m \(5\)"):
        model_from_args(ContextsConfig, parser.parse_args([*base, "--keep-m", "5", "--top-n", "4"]))
    with pytest.raises(ConfigError, match=r"--top-n: Input should be greater than or equal"):
        model_from_args(ContextsConfig, parser.parse_args([*base, "--top-n", "0"]))


def test_no_library_module_imports_the_cli() -> None:
    """The library is usable without the command line: nothing outside ``cli/`` imports it."""
    import ast
    from pathlib import Path

    import cobalt_rl

    root = Path(cobalt_rl.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if (root / "cli") in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [
                f"{path.relative_to(root)}: {n}" for n in names if n.startswith("cobalt_rl.cli")
            ]
    assert not offenders


def test_no_config_class_re_declares_a_field_of_its_bases() -> None:
    """A field is declared once: a subclass that needs another default says so through its
    mode's defaults (``RlefTrainConfig.mode_defaults``), not by declaring the field again.
    Only the discriminators (``mode``, ``backend``) are narrowed per variant."""
    import importlib
    import inspect
    import pkgutil

    from pydantic import BaseModel

    import cobalt_rl

    for info in pkgutil.walk_packages(cobalt_rl.__path__, "cobalt_rl."):
        try:
            importlib.import_module(info.name)
        except ImportError:  # an optional extra (ray, vllm, verl) is not installed
            continue
    seen: list[type[BaseModel]] = []
    stack: list[type[BaseModel]] = [BaseModel]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub.__module__.startswith("cobalt_rl.") and sub not in seen:
                seen.append(sub)
            stack.append(sub)
    assert len(seen) > 40  # the walk reached the package's configs
    redeclared = []
    for cls in seen:
        own = set(inspect.get_annotations(cls)) - {"mode", "backend"}
        for base in cls.__mro__[1:]:
            if base.__module__.startswith("cobalt_rl.") and issubclass(base, BaseModel):
                redeclared += [
                    f"{cls.__name__}.{n} (from {base.__name__})"
                    for n in own & set(base.model_fields)
                ]
    assert not redeclared
