"""Read scenario files: TOML in, a validated :class:`Scenario` out, or a precise error."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

from annotated_types import Ge, Le
from pydantic import BaseModel, ValidationError

from spirallab.errors import InputError, key_path
from spirallab.scenarios.schema import Scenario, quote_list

BUILTIN_PACKAGE = "spirallab.scenarios.builtin"
M = TypeVar("M", bound=BaseModel)


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with the package."""
    files = resources.files(BUILTIN_PACKAGE)
    return sorted(f.name[:-5] for f in files.iterdir() if f.name.endswith(".toml"))


def builtin_path(name: str) -> Path:
    return Path(str(resources.files(BUILTIN_PACKAGE).joinpath(f"{name}.toml")))


def resolve(name_or_path: str | Path) -> Path:
    """A path as given, or the file of a built-in scenario by name."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise InputError(
                "scenario file not found",
                file=path,
                expected=f"a TOML file or a built-in name ({', '.join(builtin_names())})",
            )
        return path
    if str(name_or_path) in builtin_names():
        return builtin_path(str(name_or_path))
    raise InputError(
        f"no scenario named {str(name_or_path)!r}",
        expected=f"a .toml path or one of: {', '.join(builtin_names())}",
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load and validate a scenario file (or a built-in scenario by name)."""
    path = resolve(name_or_path)
    scenario = parse_scenario(read_toml(path), source=path)
    scenario._source = str(path)
    return scenario


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; every way it can fail becomes one :class:`InputError` line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=path) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML: {exc}", file=path) from None
    except RecursionError:
        # tomllib recurses once per level of nested arrays or inline tables.
        raise InputError(
            "values are nested too deeply to read",
            file=path,
            expected="arrays and tables nested a few levels at most",
        ) from None


def parse_scenario(data: dict[str, Any], source: str | Path = "<scenario>") -> Scenario:
    """Validate a scenario given as a dict; errors name the key path and the allowed values.

    Types are strict: a string is never read as a number (``end = "1990"``), a float never as
    an integer (``replicates = 5.0``), a boolean never as a number (``seed = true``).
    """
    return parse_model(Scenario, data, source, strict=True)


def _json_value(value: object) -> str:
    # TOML dates and times have no JSON form; as text they fail strict validation by name.
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"unexpected value {value!r}")


def parse_model(root: type[M], data: dict[str, Any], source: str | Path, strict: bool = False) -> M:
    """Validate ``data`` as ``root``; the first error becomes an :class:`InputError`.

    ``strict`` validates without coercion. It goes through JSON, whose strict mode still reads
    arrays as tuples and strings as enum members, as TOML files need.
    """
    try:
        if strict:
            try:
                text = json.dumps(data, default=_json_value)
            except RecursionError:
                raise InputError("values are nested too deeply to read", file=source) from None
            return root.model_validate_json(text, strict=True)
        return root.model_validate(data)
    except ValidationError as exc:
        # Of a union's alternatives, report the one that got deepest into the value.
        errors: list[dict[str, Any]] = [dict(e, loc=_clean(e["loc"])) for e in exc.errors()]
        err = max(errors, key=lambda e: len(e["loc"]))
        found = err.get("input")
        if err["type"] == "missing" or isinstance(found, dict):
            found = None
        raise InputError(
            _problem(err),
            file=source,
            where=_key_path(err["loc"]),
            found=found,
            expected=_expected(err, root),
        ) from None


def _clean(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's internal location parts (union branches, validators)."""
    return tuple(p for p in loc if isinstance(p, int) or not any(ch in p for ch in "[(-"))


def _key_path(loc: tuple[Any, ...]) -> str:
    return key_path(loc) or "(top level)"


def _problem(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _model_at(
    loc: tuple[Any, ...], root: type[BaseModel]
) -> tuple[type[BaseModel] | None, str | None]:
    """The model that owns the last named key of ``loc``, and that key."""
    model: type[BaseModel] | None = root
    owner: type[BaseModel] | None = None
    key: str | None = None
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        if not isinstance(part, str) or part not in model.model_fields:
            return model, part if isinstance(part, str) else None
        owner, key = model, part
        ann = model.model_fields[part].annotation
        model = _inner_model(ann)
    return owner, key


def _inner_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in get_args(ann):
        found = _inner_model(arg)
        if found is not None:
            return found
    if get_origin(ann) is not None:
        return None
    return None


def _expected(err: Any, root: type[BaseModel]) -> str | None:
    kind = err["type"]
    loc = tuple(err["loc"])
    if kind == "extra_forbidden":
        owner, _ = _model_at(loc[:-1], root) if len(loc) > 1 else (root, None)
        parent = (
            _inner_model(owner.model_fields[loc[-2]].annotation)
            if (
                owner is not None
                and len(loc) > 1
                and isinstance(loc[-2], str)
                and loc[-2] in owner.model_fields
            )
            else owner
        )
        if len(loc) > 1 and isinstance(loc[-2], int):
            owner2, key2 = _model_at(loc[:-2], root)
            if owner2 is not None and key2 is not None:
                parent = _inner_model(owner2.model_fields[key2].annotation)
        if parent is not None:
            return "one of: " + quote_list(list(parent.model_fields))  # 100+ parameters
        return None
    owner, key = _model_at(loc, root)
    if owner is None or key is None or key not in owner.model_fields:
        return None
    info = owner.model_fields[key]
    lo = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
    hi = next((m.le for m in info.metadata if isinstance(m, Le)), None)
    unit = (
        (info.json_schema_extra or {}).get("unit")
        if isinstance(info.json_schema_extra, dict)
        else None
    )
    if lo is None and hi is None:
        lo, hi = _bounds_from_annotation(info.annotation)
    if lo is not None or hi is not None:
        rng = (
            f"a number from {lo} to {hi}"
            if lo is not None and hi is not None
            else (f"a number >= {lo}" if lo is not None else f"a number <= {hi}")
        )
        return rng + (f" ({unit})" if unit else "")
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"a value of type {getattr(info.annotation, '__name__', info.annotation)}"
    return None


def _bounds_from_annotation(ann: Any) -> tuple[Any, Any]:
    for arg in (ann, *get_args(ann)):
        meta = getattr(arg, "__metadata__", ())
        for m in meta:
            lo = getattr(m, "ge", None)
            hi = getattr(m, "le", None)
            if lo is not None or hi is not None:
                return lo, hi
            for mm in getattr(m, "metadata", ()):
                if isinstance(mm, Ge):
                    lo = mm.ge
                if isinstance(mm, Le):
                    hi = mm.le
            if lo is not None or hi is not None:
                return lo, hi
    return None, None
