"""Coder 2.0.0's state 0 (not in a repressive situation) is read as outside the model's phases."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spirallab.confront.record import PHASE_COLUMNS, phase_probabilities


def test_phase0_rows_carry_no_phase_and_the_rest_is_rescaled() -> None:
    coded = pd.DataFrame(
        {
            "phase_set": ["0", "4|5", "0|5"],
            "p0": [0.9, 0.0, 0.2],
            "p1": [0.0, 0.0, 0.0],
            "p2": [0.0, 0.0, 0.0],
            "p3": [0.0, 0.1, 0.0],
            "p4": [0.05, 0.45, 0.2],
            "p5": [0.05, 0.45, 0.6],
        }
    )
    probs = phase_probabilities(coded)
    assert probs.iloc[0].isna().all()
    np.testing.assert_allclose(probs.iloc[1].to_numpy(), [0, 0, 0.1, 0.45, 0.45])
    np.testing.assert_allclose(probs.iloc[2].to_numpy(), [0, 0, 0, 0.25, 0.75])
    np.testing.assert_allclose(probs.loc[[1, 2], list(PHASE_COLUMNS)].sum(axis=1), 1.0)
