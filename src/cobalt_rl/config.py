"""Stage configs are pydantic models; this module turns them into CLI flags and back.

Each field is documented once, in its model (``Field(description=...)``); ``--help`` is built
from those descriptions and defaults, so the docs and the flags cannot drift apart.
"""

from __future__ import annotations

import argparse
import types
import typing
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Discriminator, ValidationError
from pydantic.fields import FieldInfo

from cobalt_rl.errors import ConfigError

__all__ = [
    "add_command",
    "add_file_command",
    "add_model_arguments",
    "config_from_yaml_and_args",
    "model_from_args",
    "read_yaml_mapping",
    "tag_by",
    "union_variants",
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


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-").replace(".", "-")


def _unwrap_optional(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _is_model(tp: Any) -> bool:
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
        if not _is_model(arg):
            return []
        variants.append(arg)
    return variants


def _cli_extra(field: FieldInfo, key: str) -> Any:
    extra = field.json_schema_extra
    return extra.get(key) if isinstance(extra, dict) else None


def _variant_tag(variant: type[BaseModel], discriminator: str) -> str:
    tag_field = variant.model_fields.get(discriminator)
    tags = typing.get_args(tag_field.annotation) if tag_field is not None else ()
    return str(tags[0]) if tags else variant.__name__


def _merged_fields(
    variants: list[type[BaseModel]], discriminator: str
) -> dict[str, tuple[FieldInfo, list[str]]]:
    """Every field of a union's variants but the discriminator, once, with the variants (by
    tag) that have it."""
    fields: dict[str, tuple[FieldInfo, list[str]]] = {}
    for variant in variants:
        tag = _variant_tag(variant, discriminator)
        for name, field in variant.model_fields.items():
            if name == discriminator:
                continue
            if name in fields:
                fields[name][1].append(tag)
            else:
                fields[name] = (field, [tag])
    everywhere = len(variants)
    return {n: (f, [] if len(tags) == everywhere else tags) for n, (f, tags) in fields.items()}


def add_model_arguments(
    parser: argparse.ArgumentParser,
    model: Any,
    prefix: str = "",
    flag_prefix: str | None = None,
    discriminator: str = "mode",
) -> None:
    """Add one flag per field of ``model`` to ``parser`` (help text from the field docs).

    A field that is itself a model gets one flag per sub-field: ``sandbox.backend`` is
    ``--sandbox-backend``; one marked ``json_schema_extra={"cli_flatten": True}`` gets its
    sub-fields' flags without the prefix (``generator.model`` is ``--model``). A field that
    is a discriminated union of models (backends, trainer modes) gets the flags of every
    variant's fields; a flag given for the wrong variant is a validation error naming it.
    """
    variants = union_variants(model)
    if variants:  # a union at the top (the trainer's modes)
        _add_union(parser, variants, discriminator, "", prefix, flag_prefix or prefix)
        return
    _add_fields(parser, {n: (f, []) for n, f in model.model_fields.items()}, prefix, flag_prefix)


def _add_union(
    parser: argparse.ArgumentParser,
    variants: list[type[BaseModel]],
    discriminator: str,
    description: str,
    prefix: str,
    flag_prefix: str,
) -> None:
    """The discriminator's flag (every variant's tag a choice), then every variant's fields."""
    tags = [_variant_tag(v, discriminator) for v in variants]
    parser.add_argument(
        _flag(flag_prefix + discriminator),
        dest=prefix + discriminator,
        choices=tags,
        default=argparse.SUPPRESS,
        help=f"{description} (default: {tags[0]})".strip().replace("%", "%%"),
    )
    _add_fields(parser, _merged_fields(variants, discriminator), prefix, flag_prefix)


def _add_fields(
    parser: argparse.ArgumentParser,
    fields: dict[str, tuple[FieldInfo, list[str]]],
    prefix: str,
    flag_prefix: str | None,
) -> None:
    flag_prefix = prefix if flag_prefix is None else flag_prefix
    for field_name, (field, only) in fields.items():
        if _cli_extra(field, "cli") is False:
            continue
        dest, flag = prefix + field_name, flag_prefix + field_name
        tp = _unwrap_optional(field.annotation)
        nested_flag = "" if _cli_extra(field, "cli_flatten") else f"{flag}."
        variants = union_variants(tp)
        if variants:
            discriminator = _cli_extra(field, "discriminator") or "backend"
            description = field.description or ""
            _add_union(parser, variants, discriminator, description, f"{dest}.", nested_flag)
            continue
        if _is_model(tp):
            nested: dict[str, tuple[FieldInfo, list[str]]] = {
                n: (f, []) for n, f in tp.model_fields.items()
            }
            _add_fields(parser, nested, f"{dest}.", nested_flag)
            continue
        _add_flag(parser, dest, flag, field, tp, only)


def _add_flag(
    parser: argparse.ArgumentParser,
    dest: str,
    flag: str,
    field: FieldInfo,
    tp: Any,
    only: list[str],
) -> None:
    help_text = field.description or ""
    if only:
        help_text = f"[{', '.join(only)}] {help_text}"
    # Only top-level fields are required by argparse: a nested section's required field is
    # required only once the section is given (the model's validation says so).
    required = field.is_required() and not only and "." not in dest
    if not field.is_required():
        default = field.get_default(call_default_factory=True)
        if default is not None and not isinstance(default, BaseModel):
            shown = default.value if isinstance(default, Enum) else default
            help_text += f" (default: {shown})"
    # argparse %-formats help strings: a literal % in a field's doc must be doubled.
    kwargs: dict[str, Any] = {
        "dest": dest,
        "help": help_text.replace("%", "%%"),
        "default": argparse.SUPPRESS,
    }
    if tp is bool:
        parser.add_argument(_flag(flag), action=argparse.BooleanOptionalAction, **kwargs)
        return
    if isinstance(tp, type) and issubclass(tp, Enum):
        kwargs["choices"] = [m.value for m in tp]
    elif typing.get_origin(tp) is typing.Literal:
        kwargs["choices"] = list(typing.get_args(tp))
    elif typing.get_origin(tp) is list:
        kwargs["nargs"] = "+"
    elif tp in (int, float, str, Path):
        kwargs["type"] = tp
    metavar = flag.upper().replace(".", "_")
    parser.add_argument(_flag(flag), required=required, metavar=metavar, **kwargs)


def validate_config(model: type[M], data: dict[str, Any], where: str = "arguments") -> M:
    """Validate ``data`` as ``model``; raise :class:`ConfigError` naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_error_text(model.__name__, e, data, where, model)) from e


def validate_as(tp: Any, data: Any, where: str = "arguments", name: str = "config") -> Any:
    """Validate ``data`` as any type pydantic knows (a discriminated union of configs, say);
    raise :class:`ConfigError` naming each bad field, as :func:`validate_config` does."""
    from pydantic import TypeAdapter

    try:
        return TypeAdapter(tp).validate_python(data)
    except ValidationError as e:
        raise ConfigError(_error_text(name, e, data, where, tp)) from e


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
    """The flag's name for a dotted field path: a ``cli_flatten`` field adds no prefix."""
    parts = []
    for part in path.split("."):
        variants = union_variants(_unwrap_optional(tp)) or [_unwrap_optional(tp)]
        field = next(
            (v.model_fields[part] for v in variants if _is_model(v) and part in v.model_fields),
            None,
        )
        if field is None or not _cli_extra(field, "cli_flatten"):
            parts.append(part)
        tp = field.annotation if field is not None else None
    return ".".join(parts)


def _error_text(name: str, error: ValidationError, data: Any, where: str, tp: Any = None) -> str:
    lines = []
    for err in error.errors():
        path, variant = _readable_loc(tuple(err["loc"]), data)
        flag = _flag(_flag_path(tp, path)) if tp is not None else _flag(path)
        shown = (flag if where == "arguments" else path) if path else "(config)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden" and variant is not None:
            msg = f"not an option of {variant!r} (it belongs to another backend or mode)"
        lines.append(f"  {shown}: {msg}")
    return f"invalid {name} in {where}:\n" + "\n".join(lines)


def _top_names(model: Any) -> set[str]:
    variants = union_variants(model) or [model]
    return {name for v in variants for name in v.model_fields}


def _given(model: Any, ns: argparse.Namespace) -> dict[str, Any]:
    """The flags given in ``ns`` that belong to ``model``, nested (``a.b`` -> ``{a: {b}}``)."""
    data: dict[str, Any] = {}
    names = _top_names(model)
    for key, value in vars(ns).items():
        *parents, leaf = key.split(".")
        if (parents[0] if parents else leaf) not in names:
            continue
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
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


def add_command(
    sub: Any,
    name: str,
    model: Any,
    func: Any,
    *,
    help: str,
    description: str,
    config_file: bool = False,
    from_yaml: Sequence[str] = (),
    section: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand whose options are ``model``'s fields (``sub`` is an argparse subparsers
    object; ``func(args)`` runs it).

    With ``config_file``, the options may also come from ``--config FILE`` (its ``section``
    mapping, default the command's name, or the whole file; flags override it), and the
    required fields named in ``from_yaml`` may come from the file instead of a flag.
    """
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=description)
    if config_file:
        parser.add_argument(
            "--config",
            type=Path,
            default=None,
            help=f"YAML file with any of the options below (its `{section or name}:` mapping "
            "or the whole file; flags given here override it)",
        )
    add_model_arguments(parser, model)
    for action in parser._actions:
        if action.dest in from_yaml:
            action.required = False
    parser.set_defaults(func=func)
    return parser


def add_file_command(
    sub: Any, name: str, func: Any, *, help: str, description: str, config_help: str
) -> argparse.ArgumentParser:
    """A subcommand whose one argument is a config file (``cobalt run CONFIG``)."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=description)
    parser.add_argument("config", type=Path, help=config_help)
    parser.set_defaults(func=func)
    return parser


def config_from_yaml_and_args(
    model: Any, path: Path | None, section: str, ns: argparse.Namespace
) -> Any:
    """``model`` (a config model, or a union of them) from a YAML file (its ``section``
    mapping, or the whole file) overridden by the flags given in ``ns``; errors name the
    file or the flag."""
    data: dict[str, Any] = {}
    if path is not None:
        loaded = read_yaml_mapping(path)
        data.update(loaded.get(section, loaded))
    data = _merge(data, _given(model, ns))
    where = str(path or "arguments")
    if union_variants(model):
        return validate_as(model, data, where)
    return validate_config(model, data, where=where)
