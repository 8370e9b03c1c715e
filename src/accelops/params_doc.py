"""What each params.yaml key does, read from the typed model (`accelops params explain [KEY]`).

A key is a dotted path such as `train.batch_size`; `*` stands for any name in a mapping of
sections (`features.views.*.ttl_days`) and `[]` for each item of a list of sections
(`evaluate.directional[].feature`).
"""

from __future__ import annotations

import difflib
import json
import types
from dataclasses import dataclass, replace
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from accelops.config import Params
from accelops.errors import ConfigError

BOUNDS = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="), ("min_length", "min length"),
          ("pattern", "matching"))
UNSET = object()


@dataclass(frozen=True)
class KeyDoc:
    """One params.yaml key: its dotted path, type (with bounds), default ("required" when it has
    none) and description; `section` when it holds keys of its own."""
    path: str
    type: str
    default: str
    description: str
    section: bool


def key_docs(model: type[BaseModel] = Params, prefix: str = "") -> list[KeyDoc]:
    """Every key of `model` and of the sections inside it, depth first, in declaration order."""
    out = []
    for name, field in model.model_fields.items():
        if field.exclude:          # Params.root: set by load_params, not written in params.yaml
            continue
        path = prefix + (field.alias or name)
        inner, suffix = _section(field.annotation)
        out.append(KeyDoc(path, _type(field), _default(field), field.description or "", inner is not None))
        if inner is not None:
            out += key_docs(inner, path + suffix + ".")
    return out


def explain(key: str | None = None, raw: dict | None = None) -> str:
    """Each key matching `key` (a key, or a section and every key under it; None: all) with its
    type, default, description and, given `raw` (params.yaml as read), the value the file sets.
    An unknown key raises ConfigError naming it and the closest known keys."""
    docs = key_docs()
    found = docs if key is None else [m for d in docs if (m := _match(d, key)) is not None]
    if not found:
        close = difflib.get_close_matches(key, [d.path for d in docs], n=3, cutoff=0.75)
        hint = f"did you mean {' or '.join(close)}?" if close else "`accelops params explain` lists every key"
        raise ConfigError(f"unknown params key {key!r}: {hint}")
    return "\n\n".join(_render(d, raw) for d in found)


def value_at(raw: dict, path: str) -> Any:
    """The value params.yaml sets at `path` (a mapping for `*`, a list for `[]`); UNSET when it sets none."""
    return _lookup(raw, path.split("."))


def _render(doc: KeyDoc, raw: dict | None) -> str:
    lines = [f"{doc.path}  {doc.type}; {'required' if doc.default == 'required' else 'default ' + doc.default}",
             f"    {' '.join(doc.description.split())}"]
    if raw is not None and not doc.section:
        value = value_at(raw, doc.path)
        lines.append("    params.yaml: " + ("not set (the default applies)" if value is UNSET else json.dumps(value)))
    return "\n".join(lines)


def _match(doc: KeyDoc, key: str) -> KeyDoc | None:
    """`doc` when `key` names it or a section above it, with `*` replaced by the names `key` gives."""
    asked, have = key.split("."), doc.path.split(".")
    if len(asked) > len(have):
        return None
    for a, h in zip(asked, have):
        if h != "*" and a.removesuffix("[]") != h.removesuffix("[]"):
            return None
    named = [a if h == "*" else h for a, h in zip(asked, have)]
    return replace(doc, path=".".join(named + have[len(asked):]))


def _lookup(node: Any, segments: list[str]) -> Any:
    if not segments:
        return node
    head, rest = segments[0], segments[1:]
    if head == "*":
        found = {k: _lookup(v, rest) for k, v in node.items()} if isinstance(node, dict) else {}
        return {k: v for k, v in found.items() if v is not UNSET} or UNSET
    name = head.removesuffix("[]")
    if not isinstance(node, dict) or name not in node:
        return UNSET
    if head.endswith("[]"):
        items = [_lookup(v, rest) for v in node[name] or []]
        return [v for v in items if v is not UNSET] or UNSET
    return _lookup(node[name], rest)


def _section(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The section model a key holds: itself or optional (""), as mapping values (".*") or list items ("[]")."""
    args = get_args(annotation)
    if _is_model(annotation):
        return annotation, ""
    if get_origin(annotation) in (Union, types.UnionType):
        return next(((a, "") for a in args if _is_model(a)), (None, ""))
    if get_origin(annotation) is dict and _is_model(args[1]):
        return args[1], ".*"
    if get_origin(annotation) is list and _is_model(args[0]):
        return args[0], "[]"
    return None, ""


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def _type(field: FieldInfo) -> str:
    bounds = [f"{sym} {getattr(m, attr)}" for m in field.metadata for attr, sym in BOUNDS
              if getattr(m, attr, None) is not None]
    return ", ".join([_type_name(field.annotation), *bounds])


def _type_name(t: Any) -> str:
    origin, args = get_origin(t), get_args(t)
    if origin is Literal:
        return " | ".join(map(str, args))
    if origin in (Union, types.UnionType):
        return " | ".join(map(_type_name, args))
    if origin is not None:
        return f"{origin.__name__}[{', '.join(map(_type_name, args))}]"
    if t is type(None):
        return "null"
    return "section" if _is_model(t) else t.__name__


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    default = field.get_default(call_default_factory=True)
    return "per key" if isinstance(default, BaseModel) else json.dumps(default)
