"""The playbook: what each actor does in each phase, after seed 000's table.

Seed 000 ("A model of securing human rights") is a one-page table: five phases (rows) by three
actors (the violating state, local activists, international partners). The entries below are
the project's own paraphrase of each cell, with the row they come from, so that the country
page can put the current phase's row next to the evidence. The seed itself is never copied into
the package; the server shows it read from the seeds folder, if there is one
(:func:`seed_rows`), with an anchor per row so each playbook entry links to its passage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ACTORS = ("state", "activists", "partners")
ACTOR_NAMES = {
    "state": "The violating state",
    "activists": "Local human rights activists",
    "partners": "International partners",
}

# The first words of each row of the table in seed 000, used to find the passage in the file.
ROW_KEYS: dict[int, str] = {
    1: "Repression/violation",
    2: "Denial/backlash",
    3: "Tactical concessions",
    4: "Change of policy",
    5: "Respect for human rights",
}


@dataclass(frozen=True)
class Play:
    """One phase's row: what each actor typically does, in the project's words."""

    phase: int
    title: str
    state: tuple[str, ...]
    activists: tuple[str, ...]
    partners: tuple[str, ...]

    def actor(self, key: str) -> tuple[str, ...]:
        return {"state": self.state, "activists": self.activists, "partners": self.partners}[key]


PLAYBOOK: dict[int, Play] = {
    1: Play(
        1,
        "Repression",
        state=("Violates rights; the opposition at home is weak or persecuted.",),
        activists=(
            "Working at home is too risky or gets nowhere.",
            "Look abroad for allies (the boomerang).",
        ),
        partners=(
            "Take in the information domestic groups send out.",
            "Appeal to international and regional norms and mechanisms.",
            "Bring NGOs, international bodies, friendly governments and the public in.",
            "Press the government directly and lobby other governments to press it too.",
            "Can fund domestic groups that are struggling.",
        ),
    ),
    2: Play(
        2,
        "Denial and backlash",
        state=(
            "Rejects the validity of the rights claims and calls them interference.",
            "Attacks the credibility of the critics and of their evidence.",
            "Invokes sovereignty; may stir resentment of outside meddling or fear of disorder.",
        ),
        activists=(
            "The domestic opposition grows and draws in new actors.",
            "Can be hit by new attacks.",
        ),
        partners=("Keep up the pressure, bilateral and multilateral.",),
    ),
    3: Play(
        3,
        "Tactical concessions",
        state=(
            "Makes cosmetic changes to deflect criticism.",
            "Accepts that the claims are valid and starts talking to its critics.",
            "Each concession narrows its room for manoeuvre: it can become entrapped by its own"
            " words.",
        ),
        activists=(
            "The action moves home: activists are emboldened and partly shielded by their"
            " foreign links.",
            "Keep the transnational links; keep citing norms and mechanisms; pass information"
            " both ways.",
            "Answer official rhetoric with new evidence and moral argument; dialogue makes"
            " entrapment likelier.",
        ),
        partners=("Now is the time for shaming and for negative pressure (sticks).",),
    ),
    4: Play(
        4,
        "Change of policy or regime (prescriptive status)",
        state=("Policy or the regime changes; the norms are accepted in law and in words.",),
        activists=(
            "Move into the new political space.",
            "Human rights enter public debate.",
        ),
        partners=(
            "Keep pressure from above and below so that conduct matches the words: a new"
            " regime may back away from protection once it feels secure.",
        ),
    ),
    5: Play(
        5,
        "Rule-consistent behaviour",
        state=("Practice improves and is backed by the rule of law.",),
        activists=(
            "Rights become mainstream and taken for granted; a human rights culture grows.",
        ),
        partners=("Network activity winds down.",),
    ),
}

# The table's notes that hold in every phase (seed 000, the paragraph above the table).
GENERAL = (
    "The spiral can stall or wind back to worse violations at any point.",
    "Moving a government from denial to concessions is usually the hardest step.",
    "Retreat from concessions is the likeliest setback.",
    "The spiral keeps turning only while transnational civil society drives it.",
)


def plays_for(phase_set: str) -> list[Play]:
    """The rows for a coded phase or phase set ("3" or "3|4"); empty for an undecided year."""
    out: list[Play] = []
    for part in str(phase_set).split("|"):
        part = part.strip()
        if part.isdigit() and int(part) in PLAYBOOK:
            out.append(PLAYBOOK[int(part)])
    return out


def seed_file(seeds: Path | None) -> Path | None:
    """Seed 000's file in the seeds folder, if the folder has it."""
    if seeds is None or not seeds.is_dir():
        return None
    found = sorted(seeds.glob("000_*.txt"))
    return found[0] if found else None


def seed_rows(path: Path) -> list[tuple[str | None, str]]:
    """The seed's lines, each with the anchor of the table row it starts (or None)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    out: list[tuple[str | None, str]] = []
    for line in text.splitlines():
        anchor = next(
            (f"phase-{k}" for k, key in ROW_KEYS.items() if line.strip().startswith(key)), None
        )
        out.append((anchor, line))
    return out
