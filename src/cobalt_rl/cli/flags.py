"""Command-line flags from config models, and config models back from the flags.

Each field is documented once, in its model (``Field(description=...)``); ``--help`` is built
from those descriptions and defaults, so the docs and the flags cannot drift apart. Likewise a
command is documented once, in the docstring of the function that runs it: its first paragraph
is the command's line in ``cobalt --help``, the rest its description (as click and typer take
them). Validation and its error messages are the library's (:mod:`cobalt_rl.config_io`); this
module is the argparse side only.
"""

from __future__ import annotations

import argparse
import inspect
import typing
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from cobalt_rl.config_io import (
    field_extra,
    flag_name,
    is_model,
    read_yaml_mapping,
    union_variants,
    unwrap_optional,
    validate_as,
    validate_config,
)

__all__ = [
    "add_command",
    "add_file_command",
    "add_model_arguments",
    "config_from_yaml_and_args",
    "model_from_args",
]

M = TypeVar("M", bound=BaseModel)


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
        flag_name(flag_prefix + discriminator),
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
    defaults: BaseModel | None = None,
) -> None:
    """One flag per field; ``defaults``: the enclosing field's default object, whose values
    the help shows where they differ from the fields' own (a service's ceiling limits)."""
    flag_prefix = prefix if flag_prefix is None else flag_prefix
    for field_name, (field, only) in fields.items():
        if field_extra(field, "cli") is False:
            continue
        dest, flag = prefix + field_name, flag_prefix + field_name
        tp = unwrap_optional(field.annotation)
        nested_flag = flag_prefix if field_extra(field, "cli_flatten") else f"{flag}."
        variants = union_variants(tp)
        if variants:
            discriminator = field_extra(field, "discriminator") or "backend"
            description = field.description or ""
            _add_union(parser, variants, discriminator, description, f"{dest}.", nested_flag)
            continue
        if is_model(tp):
            nested: dict[str, tuple[FieldInfo, list[str]]] = {
                n: (f, []) for n, f in tp.model_fields.items()
            }
            default = None if field.is_required() else field.get_default(call_default_factory=True)
            default = default if isinstance(default, BaseModel) else None
            _add_fields(parser, nested, f"{dest}.", nested_flag, default)
            continue
        shown = getattr(defaults, field_name) if defaults is not None else None
        _add_flag(parser, dest, flag, field, tp, only, shown)


def _add_flag(
    parser: argparse.ArgumentParser,
    dest: str,
    flag: str,
    field: FieldInfo,
    tp: Any,
    only: list[str],
    shown_default: Any = None,
) -> None:
    help_text = field.description or ""
    if only:
        help_text = f"[{', '.join(only)}] {help_text}"
    # Only top-level fields are required by argparse: a nested section's required field is
    # required only once the section is given (the model's validation says so).
    required = field.is_required() and not only and "." not in dest
    if not field.is_required():
        default = field.get_default(call_default_factory=True)
        default = default if shown_default is None else shown_default
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
        parser.add_argument(flag_name(flag), action=argparse.BooleanOptionalAction, **kwargs)
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
    parser.add_argument(flag_name(flag), required=required, metavar=metavar, **kwargs)


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
    """``base`` with ``over``'s values, mappings merged key by key."""
    out = dict(base)
    for key, value in over.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if both else value
    return out


def model_from_args(model: type[M], ns: argparse.Namespace) -> M:
    """Build ``model`` from the flags that were given (the rest keep their defaults)."""
    return validate_config(model, _given(model, ns))


def _add_parser(sub: Any, name: str, func: Callable[..., Any]) -> argparse.ArgumentParser:
    """The subcommand ``name`` run by ``func``, its help and description from ``func``'s
    docstring: the first paragraph, and the paragraphs after it (the first when there are
    none)."""
    doc = inspect.getdoc(func)
    if not doc:
        raise TypeError(f"{func.__qualname__} runs `{name}` and needs a docstring: its --help")
    summary, _, details = doc.partition("\n\n")
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=summary, description=details or summary
    )
    parser.set_defaults(func=func)
    return parser


def add_command(
    sub: Any,
    name: str,
    model: Any,
    func: Callable[[argparse.Namespace], int],
    *,
    config_file: bool = False,
    from_yaml: Sequence[str] = (),
    section: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand whose options are ``model``'s fields (``sub`` is an argparse subparsers
    object; ``func(args)`` runs it, and its docstring is the command's help).

    With ``config_file``, the options may also come from ``--config FILE`` (its ``section``
    mapping, default the command's name, or the whole file; flags override it), and the
    required fields named in ``from_yaml`` may come from the file instead of a flag.
    """
    parser = _add_parser(sub, name, func)
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
    return parser


def add_file_command(
    sub: Any, name: str, func: Callable[[argparse.Namespace], int], *, config_help: str
) -> argparse.ArgumentParser:
    """A subcommand whose one argument is a config file (``cobalt run CONFIG``); ``func(args)``
    runs it, and its docstring is the command's help."""
    parser = _add_parser(sub, name, func)
    parser.add_argument("config", type=Path, help=config_help)
    return parser


def config_from_yaml_and_args(
    model: Any,
    path: Path | None,
    section: str,
    ns: argparse.Namespace,
    read: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Any:
    """``model`` (a config model, or a union of them) from a YAML file (its ``section``
    mapping, or the whole file; or what ``read`` makes of the whole file) overridden by the
    flags given in ``ns``; errors name the file or the flag."""
    data: dict[str, Any] = {}
    if path is not None:
        loaded = read_yaml_mapping(path)
        data.update(read(loaded) if read is not None else loaded.get(section, loaded))
    data = _merge(data, _given(model, ns))
    where = str(path or "arguments")
    if union_variants(model):
        return validate_as(model, data, where)
    return validate_config(model, data, where=where)
