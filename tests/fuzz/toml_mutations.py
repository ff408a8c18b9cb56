"""Hypothesis strategies that break a valid TOML document in the ways people and tools do."""

from __future__ import annotations

import copy
from typing import Any

import tomli_w
from hypothesis import strategies as st

# Awkward values: boundaries, wrong types, blank and huge text, nested structures.
SCALARS = st.one_of(
    st.sampled_from([0, 1, -1, 2, 3, 1975, 1800, 2200, 1799, 2201, 10**7, 2**31, 2**63 - 1,
                     -(2**63)]),
    st.integers(-5, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 1.0, -0.0, 1e-300, 1e300]),
    st.booleans(),
    st.sampled_from(["", " ", "\t\n", "no", "true", "1990", "5.0", "../x.toml", "/etc/hosts",
                     "x" * 300, "$^$", "book-eleven", "\u202e", "parameters.pressure_rate",
                     "levers[0].start", "countries.*.civil_society", "mechanisms.boomerang"]),
    st.text(max_size=20),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text("abcxyz_", min_size=1, max_size=6), inner,
                                            max_size=3)),
    max_leaves=8,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) \
        else []
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_paths(value, (*prefix, key)))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


@st.composite
def mutated_toml(draw: st.DrawFn, base: dict[str, Any], keys: list[str]) -> bytes:
    """``base`` with one to three mutations, as the bytes of a TOML file.

    ``keys`` are names worth adding (a schema's keys, so that new keys are sometimes known).
    """
    doc = copy.deepcopy(base)
    tail = ""
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["set", "set", "set", "delete", "add", "deep", "swap"]))
        paths = _paths(doc)
        if kind in ("set", "delete", "swap") and paths:
            path = draw(st.sampled_from(paths))
            parent = _parent(doc, path)
            if kind == "set":
                parent[path[-1]] = draw(VALUES)
            elif kind == "delete":
                del parent[path[-1]]
            else:  # a list element or table value replaced by another part of the document
                parent[path[-1]] = copy.deepcopy(_parent(doc, draw(st.sampled_from(paths)))
                                                 if len(paths) > 1 else doc)
        elif kind == "add":
            tables = [p for p in _paths(doc) if isinstance(_parent(doc, (*p, 0)), dict)]
            where = _parent(doc, (*draw(st.sampled_from(tables)), 0)) if tables and \
                draw(st.booleans()) else doc
            where[draw(st.sampled_from(keys))] = draw(VALUES)
        elif kind == "deep":
            depth = draw(st.sampled_from([50, 500, 5000]))
            tail += "\nzz_deep = " + "[" * depth + "]" * depth + "\n"
    try:
        text = tomli_w.dumps(doc) + tail
    except (TypeError, ValueError, RecursionError):  # not representable in TOML: keep base
        text = tomli_w.dumps(base) + tail
    raw = text.encode("utf-8")
    edit = draw(st.sampled_from(["none", "none", "truncate", "flip", "insert"]))
    if edit == "truncate":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif edit == "flip" and raw:
        i = draw(st.integers(0, len(raw) - 1))
        raw = raw[:i] + bytes([draw(st.integers(0, 255))]) + raw[i + 1:]
    elif edit == "insert":
        i = draw(st.integers(0, len(raw)))
        raw = raw[:i] + draw(st.sampled_from([b"[", b"]", b"=", b'"', b"\n[[x]]\n", b"\x00",
                                              b"\xff", b"'''"])) + raw[i:]
    return raw
