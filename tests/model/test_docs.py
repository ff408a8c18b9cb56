"""docs/model.md documents every parameter, mechanism and covariate with its current default."""

from __future__ import annotations

from pathlib import Path

from spirallab.model.params import PARAMETERS
from spirallab.scenarios.schema import MECHANISMS, Country, default_text

DOC = (Path(__file__).resolve().parents[2] / "docs" / "model.md").read_text(encoding="utf-8")


def test_every_parameter_row_matches_the_registry() -> None:
    for p in PARAMETERS:
        row = f"| `{p.name}` | {p.default:g} | {p.unit} |"
        assert row in DOC, f"docs/model.md lacks or misstates {p.name}"


def test_every_mechanism_is_documented() -> None:
    for name in MECHANISMS:
        assert f"`{name}`" in DOC


def test_every_covariate_is_documented() -> None:
    for name, f in Country.model_fields.items():
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        if "unit" in extra:
            assert f"| `{name}` | {default_text(f)} |" in DOC
    # A required field has no default to show (it once read "PydanticUndefined").
    assert "PydanticUndefined" not in DOC


def test_odd_sections_present() -> None:
    for section in (
        "Purpose",
        "Entities, state variables and scales",
        "Process overview and scheduling",
        "Design concepts",
        "Initialisation",
        "Input data",
        "Submodels",
    ):
        assert section in DOC
