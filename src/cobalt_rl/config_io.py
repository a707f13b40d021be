"""Reading and validating config models: YAML files, discriminated unions, readable errors.

Every stage config is a pydantic model whose fields are documented once
(``Field(description=...)``). This module is the library side: it reads a YAML mapping,
validates it as a model (or a union of models) and turns pydantic's errors into a
:class:`~cobalt_rl.errors.ConfigError` naming each bad field. The command line builds its
flags from the same models (:mod:`cobalt_rl.cli.flags`); the field-walking helpers both sides
share (:func:`union_variants`, :func:`flag_name`, :func:`field_extra`) live here, so the
library never imports the CLI.

Two markers in a field's ``json_schema_extra`` shape the flags, and so the errors' names:
``cli_flatten`` (a nested model whose fields take no prefix: ``generator.model`` is
``--model``) and ``cli: False`` (no flag at all).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Discriminator, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from cobalt_rl.errors import ConfigError

__all__ = [
    "field_extra",
    "flag_name",
    "is_model",
    "read_yaml_mapping",
    "tag_by",
    "union_variants",
    "unwrap_optional",
    "validate_as",
    "validate_config",
]

M = TypeVar("M", bound=BaseModel)


def tag_by(key: str, default: str) -> Discriminator:
    """The discriminator of a union of configs told apart by ``key`` (``backend``, ``mode``):
    a mapping's ``key`` (``default`` when it has none), or a config's attribute."""

    def tag(data: Any) -> str:
        if isinstance(data, Mapping):
            return str(data.get(key, default))
        return str(getattr(data, key, default))

    return Discriminator(tag)


def flag_name(path: str) -> str:
    """The command-line flag of a dotted field path: ``sandbox.limits.timeout_s`` is
    ``--sandbox-limits-timeout-s``."""
    return "--" + path.replace("_", "-").replace(".", "-")


def unwrap_optional(tp: Any) -> Any:
    """``X`` for ``X | None``; any other type unchanged."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def is_model(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic model class."""
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def union_variants(tp: Any) -> list[type[BaseModel]]:
    """The models of a (discriminated) union of models; empty for anything else.

    Accepts ``A | B``, ``Annotated[A | B, Discriminator(...)]`` and variants that are
    themselves ``Annotated[A, Tag(...)]``.
    """
    if typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return []
    variants = []
    for arg in typing.get_args(tp):
        if typing.get_origin(arg) is typing.Annotated:
            arg = typing.get_args(arg)[0]
        if arg is type(None):
            continue
        if not is_model(arg):
            return []
        variants.append(arg)
    return variants


def field_extra(field: FieldInfo, key: str) -> Any:
    """The value of ``key`` in a field's ``json_schema_extra`` (None when absent)."""
    extra = field.json_schema_extra
    return extra.get(key) if isinstance(extra, dict) else None


def validate_config(model: type[M], data: dict[str, Any], where: str = "arguments") -> M:
    """Validate ``data`` as ``model``; raise :class:`ConfigError` naming each bad field.

    ``where`` is what the data came from: ``"arguments"`` (fields are named by their flags)
    or a file's path (fields are named by their dotted paths in it).
    """
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_error_text(model.__name__, e, data, where, model)) from e


def validate_as(tp: Any, data: Any, where: str = "arguments", name: str = "config") -> Any:
    """Validate ``data`` as any type pydantic knows (a discriminated union of configs, say);
    raise :class:`ConfigError` naming each bad field, as :func:`validate_config` does."""
    try:
        return TypeAdapter(tp).validate_python(data)
    except ValidationError as e:
        raise ConfigError(_error_text(name, e, data, where, tp)) from e


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


def _readable_loc(loc: tuple[int | str, ...], data: Any) -> tuple[str, str | None]:
    """An error's location as a dotted path, without the variant tags pydantic inserts for a
    discriminated union, and the variant it was checked against (if any)."""
    parts: list[str] = []
    variant = None
    node = data
    for i, part in enumerate(loc):
        inner = i < len(loc) - 1
        if inner and isinstance(node, dict) and isinstance(part, str) and part not in node:
            variant = part  # a union's tag: the data has no such key
            continue
        parts.append(str(part))
        node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts), variant


def _flag_path(tp: Any, path: str) -> str:
    """The flag's dotted name for a field path: a ``cli_flatten`` field adds no prefix."""
    parts = []
    for part in path.split("."):
        variants = union_variants(unwrap_optional(tp)) or [unwrap_optional(tp)]
        field = next(
            (v.model_fields[part] for v in variants if is_model(v) and part in v.model_fields),
            None,
        )
        if field is None or not field_extra(field, "cli_flatten"):
            parts.append(part)
        tp = field.annotation if field is not None else None
    return ".".join(parts)


def _error_text(name: str, error: ValidationError, data: Any, where: str, tp: Any = None) -> str:
    lines = []
    for err in error.errors():
        path, variant = _readable_loc(tuple(err["loc"]), data)
        if where == "arguments":
            # A whole flattened section (its own cross-field check) has no flag of its own.
            flag = _flag_path(tp, path) if tp is not None else path
            shown = flag_name(flag) if flag else "(config)"
        else:
            shown = path or "(config)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden" and variant is not None:
            msg = f"not an option of {variant!r} (it belongs to another backend or mode)"
        lines.append(f"  {shown}: {msg}")
    return f"invalid {name} in {where}:\n" + "\n".join(lines)
