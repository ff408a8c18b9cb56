"""Fuzzing the workbench's forms: any text in any field is a result or one InputError, never
another exception (which the server would show as an internal error)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spirallab.errors import InputError
from spirallab.workbench.runs import scenario_from_form
from spirallab.workbench.whatif import lever_kinds, parse_question

KINDS = [k for k, _ in lever_kinds()]
FIELDS = ["horizon", "replicates", "seed",
          *[f"{p}_{k}" for k in KINDS for p in ("lever", "start", "length", "strength")]]
TEXT = st.one_of(
    st.text(max_size=12),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["on", "", "2013", "0.5", "1e308", "-0", "nan", "inf"]),
)


@pytest.mark.fuzz
@given(st.dictionaries(st.sampled_from(FIELDS), TEXT, max_size=12))
def test_whatif_form(form: dict[str, str]) -> None:
    try:
        question = parse_question(form, "KEN", 2013)
    except InputError:
        return
    assert 1 <= question.horizon <= 30 and 100 <= question.replicates <= 20_000
    for lever in question.levers:
        assert 0.0 <= lever.strength <= 1.0 and lever.start >= 2013 and lever.length >= 1


SCENARIO_FIELDS = ["top.name", "top.end", "top.start", "top.replicates", "top.seed", "top.step",
                   "parameters.attention_capacity", "mechanisms.boomerang", "toml.countries",
                   "toml.levers"]


@pytest.mark.fuzz
@given(st.dictionaries(st.sampled_from(SCENARIO_FIELDS),
                       st.one_of(TEXT, st.sampled_from(['[[countries]]\nid = "X"\nname = "x"\n'
                                                        "start = 1980\n", "[[levers]]\n",
                                                        "countries = 3", "= ="])),
                       max_size=8))
def test_scenario_form(form: dict[str, str]) -> None:
    try:
        scenario_from_form(form)
    except InputError as exc:
        assert str(exc)  # one line naming the form and the key
