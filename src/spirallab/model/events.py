"""Events: every transition, backslide, crackdown, regime change, ratification and concession.

Mechanisms report events through an ``emit(name, mask, detail="")`` callable with a boolean mask
over (countries, replicates); the engine turns masks into rows (replicate, country, year, event,
from_phase, to_phase, detail). Mechanisms never build rows themselves, which keeps them cheap.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from spirallab.model.f32math import intrinsic, ir, njit, types
from spirallab.model.state import B

Emit = Callable[..., None]

EVENT_NAMES: dict[str, str] = {
    "transition": "any change of phase (from_phase, to_phase)",
    "backslide": "a change to a lower phase",
    "on_agenda": "hypothesis 1 fulfilled: the network puts the country on its agenda",
    "massacre": "an egregious event that speeds agenda setting",
    "concession": "cosmetic concession on entering tactical concessions (prisoner release)",
    "argumentation": "rhetorical concession turns into argument (entrapment)",
    "crackdown": "a crackdown on the movement (detail: decapitating or imposed)",
    "regime_change": "a new government (detail: opposition coalition or repressive)",
    "liberalisation": "controlled liberalisation into prescriptive status",
    "retreat": "a consolidated government retreats from prescriptive status",
    "repressive_episode": "a new wave of repression strikes the government (any phase)",
    "ratification": "ratification (detail: core conventions or optional protocols)",
    "institution": "a domestic institution (detail: constitution, complaint mechanism, training)",
}

COLUMNS = ["replicate", "country", "year", "event", "from_phase", "to_phase", "detail"]

# Every detail a mechanism may attach to an event. A fixed list keeps the categorical columns
# identical whatever the chunking, so frames from worker processes concatenate exactly.
DETAILS: tuple[str, ...] = (
    "",
    "decapitating",
    "non-decapitating",
    "imposed (lever)",
    "prisoner release",
    "opposition coalition takes power",
    "controlled liberalisation",
    "consolidated government retreats",
    "shock (lever): opposition coalition takes power",
    "shock (lever): new repressive government",
    "shock (lever): habituated state keeps practice",
    "core conventions (ICCPR, CAT)",
    "optional protocols (ICCPR-OP1, OPCAT)",
    "norms in constitution and law",
    "complaint mechanism",
    "trained officials",
)
_EVENT_CODE = {name: i for i, name in enumerate(EVENT_NAMES)}

# What the compiled kernel writes: one uint32 per step and country-replicate, one bit per kind of
# event below (in the order the mechanisms raise them, which is also the order of rows for ties
# in the frame), and the phases before and after the step in the bits from PHASE_SHIFT on.
# Bit 2's detail depends on the decapitation switch ("non-decapitating" when it is off).
EVENT_BITS: tuple[tuple[str, str], ...] = (
    ("massacre", ""),
    ("on_agenda", ""),
    ("crackdown", "decapitating"),
    ("concession", "prisoner release"),
    ("regime_change", "opposition coalition takes power"),
    ("liberalisation", "controlled liberalisation"),
    ("retreat", "consolidated government retreats"),
    ("argumentation", ""),
    ("crackdown", "imposed (lever)"),
    ("regime_change", "shock (lever): opposition coalition takes power"),
    ("regime_change", "shock (lever): new repressive government"),
    ("regime_change", "shock (lever): habituated state keeps practice"),
    ("repressive_episode", ""),
    ("ratification", "core conventions (ICCPR, CAT)"),
    ("ratification", "optional protocols (ICCPR-OP1, OPCAT)"),
    ("institution", "norms in constitution and law"),
    ("institution", "complaint mechanism"),
    ("institution", "trained officials"),
    ("transition", ""),
    ("backslide", ""),
)
PHASE_SHIFT = 24  # bits 24-27: phase before the step; bits 28-31: phase after it
_Bits = namedtuple(
    "_Bits",
    [
        "massacre",
        "on_agenda",
        "crackdown",
        "concession",
        "falls",
        "liberalisation",
        "retreat",
        "argumentation",
        "imposed",
        "shock_liberal",
        "shock_repressive",
        "shock_settled",
        "episode",
        "core",
        "protocols",
        "constitution",
        "complaint",
        "training",
        "transition",
        "backslide",
    ],
)
BIT: Any = _Bits(*range(len(EVENT_BITS)))
_DETAIL_CODE = {d: i for i, d in enumerate(DETAILS)}


@dataclass
class EventLog:
    """Collects event masks step by step and turns them into a tidy frame at the end."""

    replicate_offset: int = 0
    year: int = 0
    _parts: list[tuple[int, int, int, Any, Any, Any, Any]] = field(default_factory=list)

    def emit(self, name: str, mask: B, detail: str = "") -> None:
        if mask.any():
            c, r = np.nonzero(mask)
            self._parts.append((self.year, _EVENT_CODE[name], _DETAIL_CODE[detail], c, r, -1, -1))

    def emit_transitions(self, old: npt.NDArray[np.int8], new: npt.NDArray[np.int8]) -> None:
        changed = (old != new) & (old > 0)
        if not changed.any():
            return
        c, r = np.nonzero(changed)
        f, t = old[c, r], new[c, r]
        self._parts.append((self.year, _EVENT_CODE["transition"], 0, c, r, f, t))
        down = t < f
        if down.any():
            self._parts.append(
                (self.year, _EVENT_CODE["backslide"], 0, c[down], r[down], f[down], t[down])
            )

    def frame(self, country_ids: list[str]) -> pd.DataFrame:
        """All events as a tidy frame sorted by replicate, year, country (scenario order), event."""
        if not self._parts:
            return empty_events(country_ids)
        n = np.array([len(p[3]) for p in self._parts])
        year = np.repeat(np.array([p[0] for p in self._parts], dtype=np.int64), n)
        event = np.repeat(np.array([p[1] for p in self._parts], dtype=np.int16), n)
        detail = np.repeat(np.array([p[2] for p in self._parts], dtype=np.int16), n)
        country = np.concatenate([p[3] for p in self._parts])
        replicate = np.concatenate([p[4] for p in self._parts]) + self.replicate_offset
        phases = [
            np.concatenate(
                [
                    np.asarray(p[k], dtype=np.int8)
                    if np.ndim(p[k])
                    else np.full(len(p[3]), -1, dtype=np.int8)
                    for p in self._parts
                ]
            )
            for k in (5, 6)
        ]
        order = np.lexsort((event, country, year, replicate))
        df = pd.DataFrame(
            {
                "replicate": replicate[order].astype(np.int64),
                "country": pd.Categorical.from_codes(country[order], categories=country_ids),
                "year": year[order],
                "event": pd.Categorical.from_codes(event[order], categories=list(EVENT_NAMES)),
                "from_phase": pd.array(phases[0][order], dtype="Int8"),
                "to_phase": pd.array(phases[1][order], dtype="Int8"),
                "detail": pd.Categorical.from_codes(detail[order], categories=list(DETAILS)),
            }
        )
        for col in ("from_phase", "to_phase"):
            df[col] = df[col].mask(df[col] < 0)
        return df


def empty_events(country_ids: list[str] | None = None) -> pd.DataFrame:
    """An events frame with no rows and the usual columns and types."""
    # Building the categorical columns costs about 3 ms (pandas checks 150 country names), paid
    # twice by every run without events; a copy of a kept one costs a tenth of that, and a
    # shallow one a sixth of that again: its columns have no rows to share, and what a caller
    # adds (rows, columns) goes into the copy's own arrays (tests/model/test_setup_cache.py).
    return _empty_events(tuple(country_ids or ())).copy(deep=False)


@lru_cache(maxsize=16)
def category_dtypes(
    country_ids: tuple[str, ...],
) -> tuple[pd.CategoricalDtype, pd.CategoricalDtype, pd.CategoricalDtype]:
    """The events frame's categorical types: country, event and detail (made once per world).

    A categorical column built from codes and one of these kept types equals one built from
    the category list, without hashing the 150 country names again at every run.
    """
    return (
        pd.CategoricalDtype(list(country_ids)),
        pd.CategoricalDtype(list(EVENT_NAMES)),
        pd.CategoricalDtype(list(DETAILS)),
    )


@lru_cache(maxsize=16)
def _empty_events(country_ids: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "replicate": pd.Series(dtype="int64"),
            "country": pd.Categorical([], categories=list(country_ids)),
            "year": pd.Series(dtype="int64"),
            "event": pd.Categorical([], categories=list(EVENT_NAMES)),
            "from_phase": pd.Series(dtype="Int8"),
            "to_phase": pd.Series(dtype="Int8"),
            "detail": pd.Categorical([], categories=list(DETAILS)),
        }
    )


# --- The kernel's code array into event rows, already in the frame's order (compiled) ---

EventRows = tuple[npt.NDArray[Any], ...]  # (column, country, year, event, from, to, detail)


def bit_tables(decapitation: bool) -> tuple[npt.NDArray[np.int64], ...]:
    """What :func:`tile_rows` needs to know about the bits: the event and detail of each bit,
    and the bits of each event (``bits[starts[e]:starts[e + 1]]``, in bit order)."""
    details = [d for _, d in EVENT_BITS]
    if not decapitation:
        details[BIT.crackdown] = "non-decapitating"
    names = list(EVENT_NAMES)
    event_of_bit = np.array([names.index(n) for n, _ in EVENT_BITS], dtype=np.int64)
    detail_of_bit = np.array([DETAILS.index(d) for d in details], dtype=np.int64)
    bits = np.argsort(event_of_bit, kind="stable").astype(np.int64)  # by event, then bit
    starts = np.searchsorted(event_of_bit[bits], np.arange(len(names) + 1)).astype(np.int64)
    return event_of_bit, detail_of_bit, bits, starts


def tile_rows(
    codes: npt.NDArray[np.uint32],
    n_valid: int,
    col0: int,
    steps_per_year: int,
    years: npt.NDArray[np.int64],
    tables: tuple[npt.NDArray[np.int64], ...],
) -> EventRows:
    """The event rows of one tile's codes (steps, C, LANES), in the events frame's order.

    The order is replicate, year, country, event, then the order the mechanisms raised them
    in (step, then bit); walking the codes in that order gives the rows sorted, with no sort.
    """
    if steps_per_year == 1:
        return _yearly_rows(codes, n_valid, col0, years, *tables)
    # Lane-major, so that the walk reads memory in order.
    by_lane = np.ascontiguousarray(codes[:, :, :n_valid].transpose(2, 0, 1))
    return _tile_rows(by_lane, col0, steps_per_year, years, *tables)


@njit(inline="always", error_model="numpy")
def _put_row(rows: Any, k: int, col: int, c: int, year: int, bit: int, v: Any, tables: Any) -> int:
    """Row ``k``: the event of ``bit`` in code ``v``; returns the next row's index."""
    event_of_bit, detail_of_bit = tables
    rows[0][k] = col
    rows[1][k] = c
    rows[2][k] = year
    rows[3][k] = event_of_bit[bit]
    rows[6][k] = detail_of_bit[bit]
    phased = bit in (BIT.transition, BIT.backslide)
    rows[4][k] = (v >> np.uint32(PHASE_SHIFT)) & np.uint32(15) if phased else -1
    rows[5][k] = (v >> np.uint32(PHASE_SHIFT + 4)) & np.uint32(15) if phased else -1
    return k + 1


@intrinsic
def _popcount_intrinsic(typingctx: Any, value: Any) -> Any:
    """The number of set bits of a uint32 (LLVM's ctpop: one instruction, vectorisable)."""
    sig = types.uint32(types.uint32)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return sig, codegen


@intrinsic
def _lowest_bit_intrinsic(typingctx: Any, value: Any) -> Any:
    """The index of the lowest set bit of a non-zero uint32 (LLVM's cttz)."""
    sig = types.uint32(types.uint32)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))

    return sig, codegen


_popcount: Any = _popcount_intrinsic
_lowest_bit: Any = _lowest_bit_intrinsic
# Codes' event bits in pieces of this many bits, each looked up in one table (spy == 1 walk).
_PIECE = 7


@njit(cache=True, error_model="numpy")
def _empty_rows(n: int) -> Any:
    """The events frame's columns for ``n`` events, unfilled: column, country, year, event,
    phase before, phase after, detail."""
    return (
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.int32),
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.int8),
        np.empty(n, dtype=np.int8),
        np.empty(n, dtype=np.int8),
        np.empty(n, dtype=np.int8),
    )


@njit(cache=True, error_model="numpy")
def _yearly_rows(
    codes: Any,  # (steps, countries, LANES): one step a year, the kernel's layout
    n_valid: int,
    col0: int,
    years: Any,
    event_of_bit: Any,
    detail_of_bit: Any,
    bits: Any,
    starts: Any,
) -> Any:
    """:func:`_tile_rows` for yearly steps, reading the kernel's codes where they lie.

    One code per country-year; its bits in event order are the set bits, lowest first, of the
    code with each bit moved to its rank in ``bits`` (piece by piece, through tables), so only
    the events present are visited. The frame's order is lane, year, country; the codes lie
    year, country, lane. Both passes read them in that order, once each (not lane by lane, 128
    bytes apart): the first counts each lane's events, which places each lane's rows (lane
    ``j`` from the sum of the counts before it), the second writes every code's rows at its
    lane's next free row. A lane's rows so come in year, country order, as the frame's.
    """
    n_steps, n_c, n_lanes = codes.shape
    flat = codes.reshape(-1)
    mask = np.uint32((1 << len(event_of_bit)) - 1)
    count = np.zeros(n_lanes, dtype=np.int64)
    for tc in range(n_steps * n_c):
        for j in range(n_valid):
            count[j] += _popcount(flat[tc * n_lanes + j] & mask)
    cursor = np.zeros(n_lanes, dtype=np.int64)  # lane j's next row
    n = 0
    for j in range(n_valid):
        cursor[j] = n
        n += count[j]
    rows = _empty_rows(n)
    col, country, year, event, before, after, detail = rows
    tables = (event_of_bit, detail_of_bit)
    n_bits = bits.shape[0]
    n_pieces = -(-n_bits // _PIECE)
    moved = np.zeros((n_pieces, 1 << _PIECE), dtype=np.uint32)
    for rank in range(n_bits):
        piece, at = bits[rank] // _PIECE, bits[rank] % _PIECE
        for u in range(1 << _PIECE):
            if (u >> at) & 1:
                moved[piece, u] |= np.uint32(1) << np.uint32(rank)
    low = np.uint32((1 << _PIECE) - 1)
    for y in range(n_steps):
        for c in range(n_c):
            for j in range(n_valid):
                v = flat[(y * n_c + c) * n_lanes + j]
                if not v & mask:
                    continue
                w = np.uint32(0)
                for piece in range(n_pieces):
                    w |= moved[piece, (v >> np.uint32(piece * _PIECE)) & low]
                k = cursor[j]
                while w:
                    rank = _lowest_bit(w)
                    w &= w - np.uint32(1)
                    k = _put_row(rows, k, col0 + j, c, years[y + 1], bits[rank], v, tables)
                cursor[j] = k
    return col, country, year, event, before, after, detail


@njit(cache=True, error_model="numpy")
def _tile_rows(
    codes: Any,  # (lanes, steps, countries)
    col0: int,
    spy: int,
    years: Any,
    event_of_bit: Any,
    detail_of_bit: Any,
    bits: Any,
    starts: Any,
) -> Any:
    n_lanes, n_steps, n_c = codes.shape
    flat = codes.reshape(-1)
    mask = np.uint32((1 << len(event_of_bit)) - 1)
    n = 0
    for i in range(flat.shape[0]):
        n += _popcount(flat[i] & mask)
    rows = _empty_rows(n)
    col, country, year, event, before, after, detail = rows
    tables = (event_of_bit, detail_of_bit)
    n_events = starts.shape[0] - 1
    k = 0
    for j in range(n_lanes):
        for y in range(n_steps // spy):
            for c in range(n_c):
                t0 = (j * n_steps + y * spy) * n_c + c  # the year's first step
                seen = np.uint32(0)
                for s in range(spy):
                    seen |= flat[t0 + s * n_c]
                if not seen & mask:
                    continue
                if spy == 1:  # one code: its set bits in event order
                    v = flat[t0]
                    for b in range(bits.shape[0]):
                        if (v >> np.uint32(bits[b])) & np.uint32(1):
                            k = _put_row(rows, k, col0 + j, c, years[y + 1], bits[b], v, tables)
                    continue
                # The country-year's events in order; an event's steps in order, then bits.
                for e in range(n_events):
                    for s in range(spy):
                        v = flat[t0 + s * n_c]
                        for b in range(starts[e], starts[e + 1]):
                            if (v >> np.uint32(bits[b])) & np.uint32(1):
                                k = _put_row(rows, k, col0 + j, c, years[y + 1], bits[b], v, tables)
    return col, country, year, event, before, after, detail
