"""``discovery.html``: the scenario-discovery report as one offline page, like sensitivity's.

The Markdown report (``discovery.md``) stays for reading in a terminal or a repository; this page
holds the same content with the figure embedded, so it opens in any browser without a network.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING

from spirallab.report.html import CSS

if TYPE_CHECKING:
    from spirallab.experiments.discovery import Discovery


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def discovery_html(found: Discovery, png: bytes | None = None) -> str:
    """The page: the outcome, the honesty check, the boxes, importances, figure and notes."""
    from spirallab import __version__
    from spirallab.experiments.outputs import POOLED
    from spirallab.experiments.sensitivity import describe_output

    title, unit = describe_output(found.output)
    where = "pooled over countries" if found.country == POOLED else f"country {found.country}"
    parts = [
        f"<h1>Scenario discovery: {_e(found.experiment or 'sweep')}</h1>",
        "<dl class='meta'>",
        f"<dt>Success</dt><dd><code>{_e(found.outcome)}</code> ({_e(title)}, {_e(unit)}), "
        f"{_e(where)}</dd>",
        f"<dt>Points</dt><dd>{found.n_points} ({_e(found.design)} design); successes "
        f"{found.n_success} (base rate {found.base_rate:.2f})</dd>",
        f"<dt>Tree</dt><dd>depth at most {found.max_depth}, boxes of at least "
        f"{found.min_leaf} point(s)</dd>",
        "</dl>",
        f"<p class='{'note' if found.informative else 'warn'}'><strong>"
        f"{_e(found.verdict())}</strong></p>",
    ]
    if found.boxes:
        rows = "".join(
            f"<tr><td class='name'>{_e(b.rule)}</td><td>{b.n_points}</td>"
            f"<td>{b.density:.2f}</td><td>{b.coverage:.2f}</td>"
            f"<td>{'success' if b.predicts_success else 'stagnation'}</td>"
            f"<td>{'yes' if b.strong else 'no'}</td></tr>"
            for b in found.boxes
        )
        parts.append(
            "<table><caption>Boxes found by the tree. Density: share of the box's points that "
            "succeed; coverage: share of all successes in the box.</caption><thead><tr>"
            "<th scope='col' class='name'>Rule</th><th scope='col'>Points</th>"
            "<th scope='col'>Density</th><th scope='col'>Coverage</th>"
            "<th scope='col'>Predicts</th><th scope='col'>Strong</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
        imp = sorted(found.importances.items(), key=lambda kv: -kv[1])
        items = "".join(f"<li>{_e(f)}: {v:.2f}</li>" for f, v in imp)
        parts.append(
            f"<p>Factor importance in the tree (share of the impurity it removes):</p><ul>{items}"
            "</ul>"
        )
    if png:
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        parts.append(
            f"<figure><img src='{uri}' alt='Every point on the two factors the tree relies on "
            "most; the dashed rectangle is the best success box.'><figcaption>Every point on the "
            "two factors the tree relies on most; the dashed rectangle is the best success box "
            "(its bounds on other factors are not shown).</figcaption></figure>"
        )
    if found.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in found.notes))
        parts.append("</ul>")
    if found.tree_text:
        parts.append(f"<h2>The tree</h2><pre>{_e(found.tree_text.rstrip())}</pre>")
    body = "\n".join(parts)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Spiral Lab {_e(__version__)}">
<title>Scenario discovery: {_e(found.experiment or "sweep")}</title>
<style>{CSS}</style>
</head>
<body>
{body}
<footer><p class="muted">Written by Spiral Lab {_e(__version__)}. Self-contained: no network
access needed.</p></footer>
</body>
</html>
"""


def write_discovery_html(found: Discovery, folder: Path, png: Path | None) -> Path:
    """Write ``discovery.html`` into ``folder`` atomically, embedding ``png`` if given."""
    from spirallab.model.result import atomic_write

    page = discovery_html(found, png.read_bytes() if png is not None and png.exists() else None)
    path = Path(folder) / "discovery.html"
    atomic_write(path, lambda p: p.write_text(page, encoding="utf-8"))
    return path
