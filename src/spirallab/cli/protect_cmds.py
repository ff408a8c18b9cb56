"""``spirallab protect ...``: the protection planner's commands (issue 12; docs/protect.md).

This module only parses options, asks for the passphrase and prints; the work is in
:mod:`spirallab.act.protect`. Every command runs with core dumps off, and an unexpected error is
reported by its type only, so that no case data reaches the screen or a log in a traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer

from spirallab.cli import app
from spirallab.errors import InputError, SpiralLabError

protect = typer.Typer(
    name="protect", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Protection planner for defenders at risk: encrypted local case files, risk "
    "assessment, matching to protection mechanisms, consented drafts (docs/protect.md).",
)
app.add_typer(protect, name="protect")

F = TypeVar("F", bound=Callable[..., Any])


class InternalError(SpiralLabError):
    """An unexpected failure, reported by its type only (its message may hold case data)."""

    exit_code = 1


def _guard(fn: F) -> F:
    """No core dumps; unexpected errors as one line without their (possibly sensitive) text."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        except (ImportError, ValueError, OSError):
            pass  # not available on this platform
        try:
            return fn(*args, **kwargs)
        except (SpiralLabError, click.exceptions.Exit, click.ClickException, typer.Exit,
                SystemExit):
            raise
        except (click.Abort, typer.Abort, EOFError):
            raise InputError("input ended or was cancelled; nothing was saved") from None
        except KeyboardInterrupt:
            raise InternalError("interrupted; the case file was not changed") from None
        except OSError as exc:
            # the file name is the user's own argument; the message has no case data
            raise InputError(f"cannot read or write ({exc.strerror})",
                             file=exc.filename) from None
        except Exception as exc:
            raise InternalError(f"internal error ({type(exc).__name__}); details are withheld "
                                "so that no case data is printed; the case file was not "
                                "changed") from None

    return wrapper  # type: ignore[return-value]


# ---------------------------------------------------------------------------------- options ---

FileArg = Annotated[Path, typer.Argument(help="The encrypted case file.")]
CaseArg = Annotated[str, typer.Argument(help="Case id (see `protect list`).")]
DestArg = Annotated[str, typer.Argument(
    help="Mechanism id from `spirallab protect catalogue`, e.g. un-srhrd-urgent-appeal.")]
StdinOpt = Annotated[bool, typer.Option(
    "--passphrase-stdin", help="Read the passphrase from the first line of standard input "
    "(for scripts); otherwise it is asked for without echo.")]
UserOpt = Annotated[str | None, typer.Option(
    "--user", help="Local user label for the audit log (default: the login name).")]
OnOpt = Annotated[str | None, typer.Option(
    "--on", help="Assessment date, YYYY-MM-DD (default: today). Incidents dated later are "
    "left out.")]
CatalogueOpt = Annotated[Path | None, typer.Option(
    "--catalogue", help="An organisation's edited catalogue (default: the built-in one).")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", help="Write to this file instead of the screen. It is NOT encrypted.")]


def _passphrase(from_stdin: bool, *, confirm: bool = False, label: str = "Passphrase") -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InputError("no passphrase on standard input", where="--passphrase-stdin")
        return line
    try:
        first = getpass.getpass(f"{label}: ")
        if confirm and getpass.getpass(f"{label} again: ") != first:
            raise InputError("the two passphrases differ; nothing was changed",
                             where="passphrase")
    except EOFError:
        raise InputError("no passphrase given", where="passphrase") from None
    return first


def _user(user: str | None) -> str:
    if user is None:
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no login name (some containers)
            user = "local user"
    label = user
    if not 0 < len(label) <= 60:
        raise InputError("user label must be 1 to 60 characters", where="--user")
    return label


def _date(value: str | None, where: str = "--on") -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError("not a date", where=where, expected="YYYY-MM-DD") from None


def _case(store: Any, case_id: str) -> Any:
    case = store.vault.cases.get(case_id)
    if case is None:
        known = ", ".join(sorted(store.vault.cases)) or "none yet"
        raise InputError("no such case in the file", where="CASE", expected=f"one of: {known}")
    return case


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
        return
    from spirallab.act.protect.store import MAGIC, atomic_write

    if out.is_file():
        with open(out, "rb") as fh:
            if fh.read(len(MAGIC)) == MAGIC:
                raise InputError("refusing to write plain text over an encrypted case file",
                                 file=out, where="--out")
    atomic_write(out, text.encode("utf-8"))
    typer.echo(f"wrote {out} (not encrypted: share it safely, delete it when done)", err=True)


# --------------------------------------------------------------------------------- commands ---


@protect.command("init")
@_guard
def init_cmd(file: FileArg, passphrase_stdin: StdinOpt = False, user: UserOpt = None) -> None:
    """Create an encrypted case file (the passphrase is asked twice and never stored)."""
    from spirallab.act.protect.store import KDF_MEMORY_KIB, KDF_PARALLELISM, KDF_TIME_COST, create

    create(file, _passphrase(passphrase_stdin, confirm=True), _user(user))
    typer.echo(f"created {file}: AES-256-GCM, key by Argon2id (t={KDF_TIME_COST}, "
               f"m={KDF_MEMORY_KIB // 1024} MiB, p={KDF_PARALLELISM}). Keep the passphrase "
               "safe: without it the file cannot be opened.")


def _save_case(file: Path, parsed: Any, source: str, replace: bool, passphrase: str,
               user: str, action: str) -> str:
    from spirallab.act.protect.records import add_case
    from spirallab.act.protect.store import transact

    done: str = transact(file, passphrase, user, action, str,
                         lambda s: add_case(s.vault, parsed, replace=replace, source=source))
    return done


ReplaceOpt = Annotated[bool, typer.Option("--replace", help="Replace a case with the same id.")]


@protect.command("import")
@_guard
def import_cmd(
    file: FileArg,
    case_toml: Annotated[Path, typer.Argument(help="A case in the TOML import format.")],
    replace: ReplaceOpt = False, passphrase_stdin: StdinOpt = False, user: UserOpt = None,
) -> None:
    """Import a whole case from TOML (format: examples/protect/case.toml, docs/protect.md)."""
    from spirallab.act.protect.records import load_case_toml

    parsed = load_case_toml(case_toml)
    done = _save_case(file, parsed, str(case_toml), replace, _passphrase(passphrase_stdin),
                      _user(user), "import")
    typer.echo(f"imported {done} into {file}")


def _ask(label: str, choices: Any = None, optional: bool = False) -> str | None:
    """One answer; a choice is asked again until it is one of the allowed values."""
    allowed = [c.value for c in choices] if choices is not None else None
    hint = f" [{'|'.join(allowed)}]" if allowed else ""
    while True:
        answer = typer.prompt(label + hint + (" (empty to skip)" if optional else ""),
                              default="" if optional else None, show_default=False)
        text = str(answer).strip()
        if not text and optional:
            return None
        if allowed is None or text in allowed:
            return text
        typer.echo(f"  expected one of: {', '.join(allowed)}", err=True)


class _Kinds(StrEnum):
    individual = "individual"
    group = "group"


def _ask_date(label: str) -> str:
    while True:
        text = typer.prompt(label + " (YYYY-MM-DD)").strip()
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            typer.echo("  not a date; expected YYYY-MM-DD", err=True)


def _ask_case() -> dict[str, Any]:
    """Prompt for a whole case, field by field, in the import format's vocabulary."""
    from spirallab.act.protect import records as r

    location = {"country": (_ask("Country (ISO3 code, e.g. COL)") or "").upper(),
                "area": _ask("Area", r.Area), "province": _ask("Province or locality",
                                                               optional=True)}
    defender = {"alias": _ask("Alias"), "kind": _ask("Individual or group",
                                                     _Kinds),
                "real_name": _ask("Real name, only if the defender chooses", optional=True),
                "contact": _ask("Contact details", optional=True),
                "work": _ask("Their human rights work"),
                "gender": _ask("Gender", optional=True),
                "dependants": typer.confirm("Family who could be exposed?", default=False),
                "location": location}
    case: dict[str, Any] = {"format": r.CASE_FORMAT, "id": _ask("Case id", optional=True),
                            "opened": dt.date.today().isoformat(), "defender": defender,
                            **_ask_records()}
    return _drop_none(case)


def _ask_records() -> dict[str, list[dict[str, Any]]]:
    """Prompt for incidents, then vulnerabilities and capacities, until the user says no."""
    from spirallab.act.protect import records as r

    out: dict[str, list[dict[str, Any]]] = {"incidents": [], "factors": []}
    while typer.confirm("Add an incident?", default=False):
        verified = typer.confirm("  Verified?", default=False)
        out["incidents"].append({
            "date": _ask_date("  Date"), "kind": _ask("  Kind", r.IncidentKind),
            "status": _ask("  Status", r.Status), "what": _ask("  What happened"),
            "perpetrator": _ask("  Perpetrator", r.Perpetrator),
            "perpetrator_detail": _ask("  Perpetrator detail", optional=True),
            "verified": verified,
            "verification": _ask("  How was it verified") if verified else None,
            "source": _ask("  Who reported it"),
            "reported_to_authorities": typer.confirm("  Reported to the authorities?",
                                                     default=False)})
    while typer.confirm("Add a vulnerability or capacity?", default=False):
        out["factors"].append({
            "category": _ask("  Category", r.Category), "kind": _ask("  Kind", r.FactorKind),
            "level": _ask("  Level", r.Level), "note": _ask("  Note")})
    cleaned: dict[str, list[dict[str, Any]]] = _drop_none(out)
    return cleaned


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


@protect.command("add")
@_guard
def add_cmd(
    file: FileArg,
    to: Annotated[str | None, typer.Option(
        "--to", help="Add incidents and factors to this existing case instead of a new case.")]
    = None,
    replace: ReplaceOpt = False, passphrase_stdin: StdinOpt = False, user: UserOpt = None,
) -> None:
    """Enter a new case interactively, or new incidents and factors of a case (--to)."""
    from spirallab.act.protect.records import CaseImport, append_records, validate
    from spirallab.act.protect.store import open_store, transact

    pw = _passphrase(passphrase_stdin)
    existing = open_store(file, pw, _user(user))  # a wrong passphrase fails before questions
    if to is not None:
        _case(existing, to)
        new = _ask_records()
        transact(file, pw, _user(user), "add", to,
                 lambda s: append_records(s.vault, to, new, source="the answers"))
        typer.echo(f"added {len(new['incidents'])} incident(s) and {len(new['factors'])} "
                   f"factor(s) to {to}")
        return
    parsed = validate(CaseImport, _ask_case(), "the answers")
    done = _save_case(file, parsed, "the answers", replace, pw, _user(user), "add")
    typer.echo(f"added {done} to {file}")


@protect.command("list")
@_guard
def list_cmd(file: FileArg, passphrase_stdin: StdinOpt = False, user: UserOpt = None) -> None:
    """List the cases: id, alias, country, incidents, last risk and whether review is due."""
    from spirallab.act.protect.risk import review_due
    from spirallab.act.protect.store import transact

    today = dt.date.today()
    rows = transact(file, _passphrase(passphrase_stdin), _user(user), "list", None,
                    lambda s: [(c.id, c.defender.alias, c.defender.location.country,
                                len(c.incidents), review_due(c, today))
                               for c in s.vault.cases.values()])
    if not rows:
        typer.echo("no cases yet")
    for cid, alias, country, n, review in rows:
        typer.echo(f"{cid}  {alias}  {country}  {n} incident(s)  {review}")


@protect.command("show")
@_guard
def show_cmd(
    file: FileArg, case: CaseArg,
    reveal: Annotated[bool, typer.Option(
        "--reveal", help="Also show the real name and contact details (logged as such).")]
    = False,
    passphrase_stdin: StdinOpt = False, user: UserOpt = None,
) -> None:
    """Show everything recorded in a case (real name and contacts only with --reveal)."""
    from spirallab.act.protect.records import render_case
    from spirallab.act.protect.store import transact

    text = transact(file, _passphrase(passphrase_stdin), _user(user),
                    "show-reveal" if reveal else "show", case,
                    lambda s: render_case(_case(s, case), reveal=reveal))
    typer.echo(text, nl=False)


@protect.command("remove")
@_guard
def remove_cmd(
    file: FileArg, case: CaseArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    passphrase_stdin: StdinOpt = False, user: UserOpt = None,
) -> None:
    """Remove a case from the file (the audit log keeps that it existed, not its content)."""
    from spirallab.act.protect.store import transact

    pw = _passphrase(passphrase_stdin)
    if not yes and not typer.confirm(f"Remove case {case} for good?", default=False):
        raise InputError("not confirmed; nothing was removed", where="CASE")

    def change(s: Any) -> None:
        _case(s, case)
        del s.vault.cases[case]

    transact(file, pw, _user(user), "remove", case, change)
    typer.echo(f"removed {case} from {file}. Older copies of the file (backups, old disk blocks) "
               "still hold it, encrypted.")


@protect.command("assess")
@_guard
def assess_cmd(file: FileArg, case: CaseArg, on: OnOpt = None, passphrase_stdin: StdinOpt = False,
               user: UserOpt = None) -> None:
    """Risk as threats x vulnerabilities / capacities: levels, reasoning, levers, review date."""
    from spirallab.act.protect.risk import assess, save_assessment
    from spirallab.act.protect.store import transact

    day = _date(on)
    label = _user(user)

    def run(s: Any) -> Any:
        c = _case(s, case)
        a = assess(c, day)
        save_assessment(c, a, label)
        return a

    a = transact(file, _passphrase(passphrase_stdin), label, "assess", case, run)
    typer.echo(render_assessment(a))


def render_assessment(a: Any) -> str:
    lines = [f"Case {a.case_id}, assessed {a.on.isoformat()}",
             f"RISK: {a.risk.value.upper()}   (threat {a.threat}, vulnerability "
             f"{a.vulnerability.value}, capacity {a.capacity.value})"]
    if a.clear_present_threat:
        lines.append("A clear, present threat: building capacity is too slow; act on the "
                     "threat and the exposure to it first.")
    lines += ["", "Threats (incidents):", *[f"  {t}" for t in a.threats or ["none recorded"]],
              "Vulnerabilities:", *[f"  {v}" for v in a.vulnerabilities or ["none recorded"]],
              "Capacities:", *[f"  {c}" for c in a.capacities or ["none recorded"]],
              "", "Reasoning:", *[f"  {r}" for r in a.reasoning],
              "", "What would lower it most:"]
    for n, lv in enumerate(a.levers, start=1):
        lines.append(f"  {n}. [{lv.when}] {lv.target}: {lv.action}")
        lines.append(f"     why: {lv.why}")
    if a.left_out:
        lines += ["", "Left out (dated after the assessment):", *[f"  {x}" for x in a.left_out]]
    lines += ["", f"Review this assessment by {a.review_by.isoformat()}."]
    return "\n".join(lines) + "\n"


@protect.command("options")
@_guard
def options_cmd(
    file: FileArg, case: CaseArg, on: OnOpt = None,
    data: Annotated[Path | None, typer.Option(
        "--data", help="Data folder (../shared/data layout): adds the country's phase in the "
        "spiral from the coded record, up to the assessment year.")] = None,
    catalogue: CatalogueOpt = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also list what does not fit, and why.")]
    = False,
    passphrase_stdin: StdinOpt = False, user: UserOpt = None,
) -> None:
    """The protection mechanisms that fit the case: why, what they need, their limits."""
    from spirallab.act.protect.catalogue import load_catalogue
    from spirallab.act.protect.matcher import country_phase, match
    from spirallab.act.protect.risk import assess
    from spirallab.act.protect.store import transact

    day = _date(on)
    cat = load_catalogue(catalogue)
    pw = _passphrase(passphrase_stdin)

    def run(s: Any) -> Any:
        c = _case(s, case)
        return c, assess(c, day)

    c, a = transact(file, pw, _user(user), "options", case, run)
    phase = country_phase(data, c.defender.location.country, day) if data is not None else None
    typer.echo(render_options(match(c, cat, a, day, phase), a, show_all))


def render_options(opts: Any, a: Any, show_all: bool) -> str:
    lines = [f"Case {opts.case_id} on {opts.on.isoformat()}: risk {a.risk.value}; region "
             f"{opts.region.value} ({opts.region_how})"]
    if opts.phase is not None:
        p = opts.phase
        head = f"phase {p.phase} ({p.label}; confidence {p.confidence}) in {p.year}" \
            if p.phase is not None else p.label
        lines.append(f"Country {p.country} in the spiral (coded record): {head}. {p.note}")
        if p.phase is not None and opts.on.year - p.year > 2:
            lines.append(f"  (the data given end in {p.year}, {opts.on.year - p.year} years "
                         "before the assessment: the phase may have changed since)")
    lines += [f"Note: {n}" for n in opts.notes]
    if a.clear_present_threat:
        lines.append("Clear, present threat: the fast mechanisms are listed first.")
    for n, o in enumerate(opts.options, start=1):
        m = o.mechanism
        flags = [m.speed.value]
        if o.consent:
            flags.append(f"consent {o.consent.date.isoformat()}")
        if m.draft:
            flags.append("draft available")
        if o.stale:
            flags.append(f"STALE: last checked {m.last_checked.isoformat()}")
        lines += ["", f"{n}. {m.name}  [{m.id}]  ({'; '.join(flags)})",
                  f"   what it does: {m.what_it_does}",
                  "   why it fits: " + "; ".join(o.fits),
                  "   it needs: " + "; ".join(m.needs),
                  "   limits:", *[f"     - {x}" for x in o.cautions],
                  f"   source: {m.source} (last checked {m.last_checked.isoformat()}, "
                  f"{m.checked_how})"]
    if show_all:
        lines += ["", "Not fitting:", *[f"  {mid}: {why}" for mid, why in opts.not_fitting]]
    return "\n".join(lines) + "\n"


@protect.command("consent")
@_guard
def consent_cmd(
    file: FileArg, case: CaseArg, destination: DestArg,
    given_by: Annotated[str | None, typer.Option(
        "--given-by", help="Who gave consent and how, e.g. 'the defender, in person' (asked "
        "for when left out, which keeps it out of the shell history).")] = None,
    informed_of: Annotated[str | None, typer.Option(
        "--informed-of", help="What the defender was told: who will read it, what it may "
        "expose (asked for when left out).")] = None,
    share_real_name: Annotated[bool, typer.Option(
        "--share-real-name", help="The defender agrees that drafts carry the real name.")] = False,
    withdraw: Annotated[bool, typer.Option("--withdraw", help="Withdraw consent instead.")]
    = False,
    on: OnOpt = None, catalogue: CatalogueOpt = None, passphrase_stdin: StdinOpt = False,
    user: UserOpt = None,
) -> None:
    """Record (or withdraw) the defender's informed consent to one destination."""
    from spirallab.act.protect.catalogue import load_catalogue
    from spirallab.act.protect.records import record_consent, withdraw_consent
    from spirallab.act.protect.store import transact

    dest = load_catalogue(catalogue).get(destination)
    day = _date(on)
    pw = _passphrase(passphrase_stdin)
    if not withdraw:
        given_by = given_by or _ask("Who gave consent, and how")
        informed_of = informed_of or _ask("What the defender was told (who reads it, what it "
                                          "may expose)")

    def change(s: Any) -> str:
        c = _case(s, case)
        if withdraw:
            withdraw_consent(c, dest.id, day)
            return "withdrawn"
        record_consent(c, dest.id, day, str(given_by), str(informed_of), share_real_name)
        return "recorded"

    what = transact(file, pw, _user(user),
                    "consent-withdraw" if withdraw else "consent", f"{case}:{dest.id}", change)
    typer.echo(f"consent to {dest.id} {what} for case {case}")


@protect.command("draft")
@_guard
def draft_cmd(file: FileArg, case: CaseArg, destination: DestArg, on: OnOpt = None,
              out: OutOpt = None, catalogue: CatalogueOpt = None,
              passphrase_stdin: StdinOpt = False, user: UserOpt = None) -> None:
    """A draft submission, only with consent, only with the fields the destination needs."""
    from spirallab.act.protect.catalogue import load_catalogue
    from spirallab.act.protect.drafts import draft
    from spirallab.act.protect.risk import assess
    from spirallab.act.protect.store import transact

    dest = load_catalogue(catalogue).get(destination)
    day = _date(on)

    def run(s: Any) -> str:
        c = _case(s, case)
        return draft(c, dest, assess(c, day), day)

    _emit(transact(file, _passphrase(passphrase_stdin), _user(user), "draft",
                   f"{case}:{dest.id}", run), out)


@protect.command("export")
@_guard
def export_cmd(
    file: FileArg,
    case: Annotated[list[str] | None, typer.Option("--case", help="Only these cases.")] = None,
    on: OnOpt = None, out: OutOpt = None, passphrase_stdin: StdinOpt = False,
    user: UserOpt = None,
) -> None:
    """A redacted report for sharing: aliases, no names, contacts, localities or sources."""
    from spirallab.act.protect.export import redacted_report
    from spirallab.act.protect.store import transact

    day = _date(on)

    def run(s: Any) -> str:
        chosen = [_case(s, c) for c in case] if case else list(s.vault.cases.values())
        return redacted_report(chosen, day)

    _emit(transact(file, _passphrase(passphrase_stdin), _user(user), "export",
                   ",".join(case) if case else "all", run), out)


@protect.command("log")
@_guard
def log_cmd(file: FileArg, passphrase_stdin: StdinOpt = False, user: UserOpt = None) -> None:
    """The audit log: who read or changed which record, when (no content)."""
    from spirallab.act.protect.audit import format_log
    from spirallab.act.protect.store import transact

    entries = transact(file, _passphrase(passphrase_stdin), _user(user), "log", None,
                       lambda s: list(s.vault.audit))
    typer.echo("\n".join(format_log(entries)))


@protect.command("catalogue")
@_guard
def catalogue_cmd(
    catalogue: CatalogueOpt = None,
    dump: Annotated[bool, typer.Option("--dump", help="Print the built-in catalogue's TOML, to "
                                       "edit a copy.")] = False,
) -> None:
    """List the mechanism catalogue (id, system, last checked), or dump it for editing."""
    from spirallab.act.protect.catalogue import builtin_catalogue_text, load_catalogue

    if dump:
        typer.echo(builtin_catalogue_text(), nl=False)
        return
    today = dt.date.today()
    for m in load_catalogue(catalogue).mechanism:
        stale = "  STALE" if m.stale(today) else ""
        typer.echo(f"{m.id:32s} {m.system:15s} checked {m.last_checked.isoformat()}{stale}  "
                   f"{m.name}")


@protect.command("passwd")
@_guard
def passwd_cmd(file: FileArg, passphrase_stdin: StdinOpt = False, user: UserOpt = None) -> None:
    """Change the passphrase: a new salt and key; the old passphrase stops working."""
    from spirallab.act.protect.store import rekey

    old = _passphrase(passphrase_stdin, label="Current passphrase")
    new = _passphrase(passphrase_stdin, confirm=True, label="New passphrase")
    rekey(file, old, new, _user(user))
    typer.echo(f"passphrase of {file} changed. Copies and backups made before still open with "
               "the old one.")


@protect.command("wipe")
@_guard
def wipe_cmd(
    file: FileArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Overwrite and delete the case file and its key material (see the limits in the docs)."""
    from spirallab.act.protect.store import MAGIC, wipe

    if not file.is_file():
        raise InputError("case file not found", file=file)
    with open(file, "rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise InputError("not a Spiral Lab case file; refusing to wipe it", file=file)
    if not yes and not typer.confirm(f"Destroy {file} for good?", default=False):
        raise InputError("not confirmed; nothing was wiped", file=file)
    wipe(file)
    typer.echo(f"wiped {file}. On SSDs and journaling or copy-on-write filesystems old copies "
               "may survive; full-disk encryption is the real protection (docs/protect.md).")
