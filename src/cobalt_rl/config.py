"""Stage configs are pydantic models; this module turns them into CLI flags and back.

Each field is documented once, in its model (``Field(description=...)``); ``--help`` is built
from those descriptions and defaults, so the docs and the flags cannot drift apart.
"""

from __future__ import annotations

import argparse
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cobalt_rl.errors import ConfigError

__all__ = [
    "add_model_arguments",
    "config_from_yaml_and_args",
    "model_from_args",
    "read_yaml_mapping",
    "validate_config",
]

M = TypeVar("M", bound=BaseModel)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-").replace(".", "-")


def _unwrap_optional(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def add_model_arguments(
    parser: argparse.ArgumentParser, model: type[BaseModel], prefix: str = ""
) -> None:
    """Add one flag per field of ``model`` to ``parser`` (help text from the field docs).

    A field that is itself a model gets one flag per sub-field: ``sandbox.backend`` is
    ``--sandbox-backend``.
    """
    for field_name, field in model.model_fields.items():
        name = prefix + field_name
        if (
            field.json_schema_extra
            and isinstance(field.json_schema_extra, dict)
            and (field.json_schema_extra.get("cli") is False)
        ):
            continue
        tp = _unwrap_optional(field.annotation)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            add_model_arguments(parser, tp, prefix=f"{name}.")
            continue
        help_text = field.description or ""
        required = field.is_required()
        default = None if required else field.get_default(call_default_factory=True)
        if not required and default is not None:
            shown = default.value if isinstance(default, Enum) else default
            help_text += f" (default: {shown})"
        # argparse %-formats help strings: a literal % in a field's doc must be doubled.
        kwargs: dict[str, Any] = {
            "dest": name,
            "help": help_text.replace("%", "%%"),
            "default": argparse.SUPPRESS,
        }
        if tp is bool:
            parser.add_argument(_flag(name), action=argparse.BooleanOptionalAction, **kwargs)
            continue
        if isinstance(tp, type) and issubclass(tp, Enum):
            kwargs["choices"] = [m.value for m in tp]
        elif typing.get_origin(tp) is typing.Literal:
            kwargs["choices"] = list(typing.get_args(tp))
        elif typing.get_origin(tp) is list:
            kwargs["nargs"] = "+"
        elif tp in (int, float, str, Path):
            kwargs["type"] = tp
        parser.add_argument(
            _flag(name), required=required, metavar=name.upper().replace(".", "_"), **kwargs
        )


def validate_config(model: type[M], data: dict[str, Any], where: str = "arguments") -> M:
    """Validate ``data`` as ``model``; raise :class:`ConfigError` naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(config)"
            lines.append(f"  {_flag(loc) if where == 'arguments' else loc}: {err['msg']}")
        raise ConfigError(f"invalid {model.__name__} in {where}:\n" + "\n".join(lines)) from e


def _given(model: type[BaseModel], ns: argparse.Namespace) -> dict[str, Any]:
    """The flags given in ``ns`` that belong to ``model``, nested (``a.b`` -> ``{a: {b}}``)."""
    data: dict[str, Any] = {}
    for key, value in vars(ns).items():
        head, _, rest = key.partition(".")
        if head not in model.model_fields:
            continue
        if rest:
            data.setdefault(head, {})[rest] = value
        else:
            data[key] = value
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def model_from_args(model: type[M], ns: argparse.Namespace) -> M:
    """Build ``model`` from the flags that were given (the rest keep their defaults)."""
    return validate_config(model, _given(model, ns))


def read_yaml_mapping(path: Path, what: str = "config") -> dict[str, Any]:
    """The mapping a YAML file holds; a clear :class:`ConfigError` naming the file otherwise."""
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read {what} {path}: {e}") from e
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping of options")
    return loaded


def config_from_yaml_and_args(
    model: type[M], path: Path | None, section: str, ns: argparse.Namespace
) -> M:
    """``model`` from a YAML file (its ``section`` mapping, or the whole file) overridden by
    the flags given in ``ns``; errors name the file or the flag."""
    data: dict[str, Any] = {}
    if path is not None:
        loaded = read_yaml_mapping(path)
        data.update(loaded.get(section, loaded))
    data = _merge(data, _given(model, ns))
    return validate_config(model, data, where=str(path or "arguments"))
