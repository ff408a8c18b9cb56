"""Observe real countries: code spiral phases from published data and case files (issue 3).

The Python API mirrors the CLI (``spirallab code``, ``spirallab decoupling``) and returns data
frames::

    from spirallab.data import DataSources, load_panel
    from spirallab.observe import RULES_V1, code_phases, decoupling, world_decoupling

    panel = load_panel(DataSources.from_dir("../shared/data"))
    coded = code_phases(panel)             # rules 2.0.0, built-in case files; casefiles={} for none
    old = code_phases(panel, rules=RULES_V1)   # rules 1.0.0

Names are imported lazily, so that ``import spirallab.observe.casefiles`` does not pull in
matplotlib. Case files live in :mod:`spirallab.observe.casefiles`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spirallab.observe.browse import country_summary, write_country_index
    from spirallab.observe.coder import (
        DEFAULT_RULES,
        PHASE_LABELS,
        RULES,
        RULES_V1,
        RULES_VERSION,
        PhaseRules,
        Rule,
        code_phases,
        practice_features,
    )
    from spirallab.observe.coder2 import RULES_V2, PhaseRulesV2
    from spirallab.observe.compare import compare_run, proper_scores, timing_errors
    from spirallab.observe.decoupling import (
        decoupling,
        plot_world_decoupling,
        world_decoupling,
    )
    from spirallab.observe.replications import (
        ChangingStandardResult,
        EmptyPromisesResult,
        PersistenceResult,
        changing_standard,
        empty_promises,
        torture_persistence,
    )
    from spirallab.observe.timeline import plot_timeline, timeline_figure, write_index

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        ("DEFAULT_RULES", "PHASE_LABELS", "RULES", "RULES_V1", "RULES_VERSION", "PhaseRules",
         "Rule", "code_phases", "practice_features"),
        "spirallab.observe.coder",
    ),
    **dict.fromkeys(("RULES_V2", "PhaseRulesV2"), "spirallab.observe.coder2"),
    **dict.fromkeys(("compare_run", "proper_scores", "timing_errors"),
                    "spirallab.observe.compare"),
    **dict.fromkeys(("country_summary", "write_country_index"), "spirallab.observe.browse"),
    **dict.fromkeys(
        ("decoupling", "plot_world_decoupling", "world_decoupling"),
        "spirallab.observe.decoupling",
    ),
    **dict.fromkeys(
        ("ChangingStandardResult", "EmptyPromisesResult", "PersistenceResult",
         "changing_standard", "empty_promises", "torture_persistence"),
        "spirallab.observe.replications",
    ),
    **dict.fromkeys(
        ("plot_timeline", "timeline_figure", "write_index"), "spirallab.observe.timeline"
    ),
}

__all__ = [
    "DEFAULT_RULES",
    "PHASE_LABELS",
    "RULES",
    "RULES_V1",
    "RULES_V2",
    "RULES_VERSION",
    "ChangingStandardResult",
    "EmptyPromisesResult",
    "PersistenceResult",
    "PhaseRules",
    "PhaseRulesV2",
    "Rule",
    "changing_standard",
    "code_phases",
    "compare_run",
    "country_summary",
    "decoupling",
    "empty_promises",
    "plot_timeline",
    "plot_world_decoupling",
    "practice_features",
    "proper_scores",
    "timeline_figure",
    "timing_errors",
    "torture_persistence",
    "world_decoupling",
    "write_country_index",
    "write_index",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'spirallab.observe' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
