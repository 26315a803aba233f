"""``flask --app web audit …``: verify the record, sign and export anchors (one unit of work each).

``audit verify`` exits 1 on any broken chain, inconsistent replay, missing case, broken anchor
or missing append-only trigger; the progress bar goes to stderr so ``--json`` stays clean.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from engine import anchors
from engine.clock import utcnow
from engine.errors import Conflict
from engine.integrity import CaseVerdict, plan_verification, verify_cases, verify_cases_in_workers

from ..extensions import db
from ..unit_of_work import CommandGroup
from .signing import agency_keys, agency_signer

audit_cli = CommandGroup("audit", help="Verify the audit record; sign and export anchors.")
anchor_cli = CommandGroup("anchor", help="Signed anchors over all cases' chain heads.")
audit_cli.add_command(anchor_cli)

TABLE_ROWS_MAX = 50


@audit_cli.command("verify")
@click.argument("reference", required=False)
@click.option("--all", "all_cases", is_flag=True, help="Every case")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report on stdout")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="Cases changed since")
@click.option(
    "--anchors",
    "anchors_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An anchor export kept outside the system: the database must still match it",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes replaying cases at once (replay uses one core each)",
)
def audit_verify(
    reference: str | None, all_cases: bool, as_json: bool, since: Any, anchors_file: Path | None, workers: int
) -> None:
    """Verify hash chains, anchors and replays; exit non-zero on any inconsistency."""
    if bool(reference) == all_cases:
        raise click.UsageError("give a REFERENCE or --all")
    url = db.engine.url.render_as_string(hide_password=False)
    if workers > 1 and url in {"sqlite://", "sqlite:///:memory:"}:
        raise click.UsageError("--workers needs a database file or server (this one is in memory)")
    exported, keys = None, agency_keys()
    if anchors_file is not None:
        try:
            exported, file_keys = anchors.read_export(json.loads(anchors_file.read_text()))
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{anchors_file}: {exc}") from None
        keys = keys or file_keys
    plan = plan_verification(db.session, reference=reference, since=since, certificate=keys, exported=exported)
    if reference and not plan.case_ids and not plan.missing:
        raise click.ClickException(f"no case {reference}")
    verdicts: list[CaseVerdict] = []
    with click.progressbar(length=len(plan.case_ids), label="Verifying", file=sys.stderr) as bar:
        if workers > 1 and len(plan.case_ids) > 1:
            found = verify_cases_in_workers(url, plan.case_ids, plan.anchored, workers)
        else:
            found = verify_cases(db.session, plan.case_ids, plan.anchored)
        for verdict in found:
            verdicts.append(verdict)
            bar.update(1)
    verdicts += plan.missing
    bad = [v for v in verdicts if not v.consistent]
    summary = {
        "cases": len(verdicts),
        "consistent": len(verdicts) - len(bad),
        "inconsistent": len([v for v in bad if not v.missing]),
        "missing": len(plan.missing),
        "anchors": plan.anchors,
        "anchor_problems": [d.as_dict() for d in plan.anchor_problems],
        "signatures_checked": plan.signatures_checked,
        "missing_triggers": plan.missing_guards,
    }
    if as_json:
        click.echo(json.dumps({"summary": summary, "cases": [v.as_dict() for v in verdicts]}, default=str, indent=1))
    else:
        _print_report(verdicts, bad, plan, summary)
    if bad or plan.anchor_problems or plan.missing_guards:
        raise SystemExit(1)


def _print_report(verdicts: list[CaseVerdict], bad: list[CaseVerdict], plan: Any, summary: dict[str, Any]) -> None:
    shown = verdicts if len(verdicts) <= TABLE_ROWS_MAX else bad
    if shown:
        click.echo(f"{'Reference':<20} {'Events':>6} {'Steps':>5}  {'Chain':<7} {'Replay':<7} Where")
    for v in shown:
        chain = "MISSING" if v.missing else ("ok" if v.chain_valid else "BROKEN")
        replay = "-" if v.missing else ("ok" if not v.replay else "DIFFERS")
        first = str(v.differences[0]) if v.differences else ""
        click.echo(f"{v.reference:<20} {v.events:>6} {v.steps:>5}  {chain:<7} {replay:<7} {first}")
        for more in v.differences[1:]:
            click.echo(f"{'':<50} {more}")
    signed = "signatures checked" if plan.signatures_checked else "signatures NOT checked (no certificate)"
    state = "intact" if not plan.anchor_problems else "BROKEN"
    click.echo(f"Anchors: {plan.anchors}, chain {state}, {signed}")
    for problem in plan.anchor_problems:
        click.echo(f"  {problem}")
    if plan.missing_guards:
        click.echo("Append-only triggers missing: " + ", ".join(plan.missing_guards))
    click.echo(
        f"{summary['consistent']} consistent, {summary['inconsistent']} inconsistent, {summary['missing']} missing"
    )


@anchor_cli.command("create")
@click.option("--force", is_flag=True, help="Sign an anchor even if no case moved")
def anchor_create(force: bool) -> None:
    """Sign an anchor over the heads of all cases that moved since the last one."""
    try:
        anchor = anchors.create_anchor(db.session, agency_signer(), utcnow(), force=force)
    except Conflict as exc:
        for detail in exc.details or []:
            click.echo(f"  {detail}", err=True)
        raise click.ClickException(exc.message) from None
    if anchor is None:
        click.echo("nothing moved since the last anchor")
    else:
        click.echo(f"anchor {anchor.seq}: {anchor.case_count} cases, {len(anchor.heads)} moved, {anchor.hash}")


@anchor_cli.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout)")
def anchor_export(output: Path | None) -> None:
    """Every signed anchor with the agency's certificate, as JSON to keep outside the system."""
    document = anchors.export_anchors(db.session, agency_keys())
    text = json.dumps(document, indent=1, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n")
        click.echo(f"{document['anchor_count']} anchors written to {output}", err=True)
