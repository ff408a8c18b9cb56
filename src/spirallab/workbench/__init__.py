"""The workbench: a local web app over the coded record, the forecasts and the model (issue 13).

``spirallab serve`` starts it. Pages: the world table and chart, a country's coded timeline
with its evidence, forecast fan and playbook (seed 000), the what-if (levers run through the
model from the country's observed state), a printable one-page brief (HTML and PDF), and the
runs, experiments and scenarios. See docs/workbench.md.

Python API::

    from spirallab.workbench.atlas import load_atlas
    from spirallab.workbench.app import Workbench, create_app

    app = create_app(Workbench(load_atlas(Path("../shared/data"))))   # an ASGI app
"""
