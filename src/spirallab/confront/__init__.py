"""Confront: the model meets the coded record (issue 10).

``world`` starts every panel country from its observed state, ``calibrate`` fits the model's
global parameters to the record by ABC-SMC (pyabc), ``forecast`` conditions each country on its
own history with an importance-weighted particle ensemble and forecasts PTS levels and phases,
``score`` compares the forecasts with what happened, beside baselines and rival explanations.
See docs/calibration.md and docs/forecasting.md.
"""
