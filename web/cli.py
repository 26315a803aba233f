"""Command line: ``flask --app web …`` (wrapped by the Makefile). Each command is one unit of work
(``CommandGroup``); a worker loop commits once per iteration (``unit_of_work``)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from engine.audit import SYSTEM, Actor
from engine.clock import utcnow
from engine.definitions import DeploymentNeedsConfirmation, deploy_bundle, read_directory
from engine.errors import DeploymentInvalid
from engine.models import User
from engine.timers import due_timer_case_ids, fire_due_timers

from .auth import create_user
from .extensions import db
from .unit_of_work import CommandGroup, unit_of_work

processes_cli = CommandGroup("processes", help="Deploy and list procedures.")
users_cli = CommandGroup("users", help="Manage staff users.")
demo_cli = CommandGroup("demo", help="Demo data for development.")
timers_cli = CommandGroup("timers", help="Fire due timers.")

ADMIN = Actor("cli", ("admin",), full_name="Command line")


@processes_cli.command("deploy")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--confirm", is_flag=True, help="Replace a live procedure or one deployed from another file")
@click.option("--keep-deployed", is_flag=True, help="Leave procedures that already have a version as they are")
def deploy_command(path: Path, confirm: bool, keep_deployed: bool) -> None:
    """Deploy a directory of procedures (bpmn/) or single files; exit non-zero if refused."""
    from .procedures import deploy_options

    files = read_directory(path) if path.is_dir() else {path.name: path.read_bytes()}
    try:
        done = deploy_bundle(
            db.session, files, ADMIN, utcnow(), **deploy_options(), confirm=confirm, keep_deployed=keep_deployed
        )
    except (DeploymentInvalid, DeploymentNeedsConfirmation) as exc:
        for problem in exc.details or []:
            line = f" line {problem['line']}" if problem.get("line") else ""
            click.echo(f"  {problem['file']}{line} [{problem['element_id']}]: {problem['message']}", err=True)
        hint = " (use --confirm)" if isinstance(exc, DeploymentNeedsConfirmation) else ""
        raise click.ClickException(exc.message + hint) from None
    for warning in done.warnings:
        click.echo(f"  warning: {warning['file']} [{warning['element_id']}]: {warning['message']}", err=True)
    for row in done.versions:
        note = " (kept: differs from bpmn/, deploy with --confirm to replace)" if row.key in done.kept else ""
        click.echo(f"{row.key} version {row.version} ({row.sha256[:12]}){note}")


@processes_cli.command("list")
def list_command() -> None:
    from engine.models import ProcessDefinition

    for row in db.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version)):
        click.echo(f"{row.key}\tv{row.version}\t{row.deployed_at:%Y-%m-%d %H:%M}\t{row.deployed_by}")


@users_cli.command("create")
@click.argument("username")
@click.option("--name", "full_name", default=None, help="Full name")
@click.option("--role", "roles", multiple=True, required=True, help="Role (repeatable)")
@click.option("--bidang", default=None, help="Bidang of a kabid")
@click.password_option()
def create_user_command(
    username: str, full_name: str | None, roles: tuple[str, ...], bidang: str | None, password: str
) -> None:
    """Create a staff user."""
    known = set(current_app.config["STAFF_ROLES"])
    unknown = set(roles) - known
    if unknown:
        raise click.BadParameter(f"unknown role(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    bidang_keys = current_app.config["AGENCY"].bidang
    if "kabid" in roles and bidang not in bidang_keys:
        raise click.BadParameter(f"a kabid needs --bidang, one of {', '.join(bidang_keys)}")
    if db.session.scalars(select(User).where(User.username == username)).first():
        raise click.ClickException(f"user {username} exists")
    create_user(username, password, full_name or username, list(roles), bidang)
    click.echo(f"created {username}")


@users_cli.command("disable-demo")
def disable_demo_command() -> None:
    """Deactivate the demo accounts that still take the demo password (before going to production)."""
    from .demo import disable_demo_logins

    disabled = disable_demo_logins(db.session, current_app.config["DEMO_PASSWORD"], utcnow())
    click.echo(f"deactivated {', '.join(disabled)}" if disabled else "no demo account takes the demo password")


@demo_cli.command("load")
@click.option("--cases/--no-cases", default=True)
def demo_load(cases: bool) -> None:
    """Demo users (and a dozen cases) for development; refuses outside development mode."""
    from .demo import load_demo

    if current_app.config["ENV_NAME"] == "production" or not current_app.config["DEMO_MODE"]:
        raise click.ClickException("demo data is only loaded in development mode (SIBALANG_DEMO=1)")
    created = load_demo(current_app.config["DEMO_PASSWORD"], with_cases=cases)
    if created:
        click.echo("Demo users created.")


@demo_cli.command("logins")
def demo_logins() -> None:
    from .demo import DEMO_USERS

    password = current_app.config["DEMO_PASSWORD"]
    click.echo(f"Demo logins (password: {password}):")
    for username, name, roles, bidang in DEMO_USERS:
        click.echo(f"  {username:<16} {', '.join(roles)}{' / ' + bidang if bidang else ''} — {name}")


@timers_cli.command("run")
@click.option("--once", is_flag=True, help="Fire what is due now and exit")
@click.option("--interval", default=30, show_default=True, help="Seconds between rounds")
def timers_run(once: bool, interval: int) -> None:
    """Fire due timers: one transaction per case."""
    while True:
        fired = 0
        with unit_of_work():
            case_ids = due_timer_case_ids(db.session, utcnow())
        for case_id in case_ids:
            try:
                with unit_of_work():
                    fired += bool(fire_due_timers(db.session, case_id, SYSTEM, utcnow()))
            except Exception:
                current_app.logger.exception("timer round failed for case %s", case_id)
        _anchor_if_due()
        _discard_expired_uploads()
        click.echo(f"{utcnow():%Y-%m-%d %H:%M:%S} fired timers in {fired} case(s)")
        if once:
            return
        time.sleep(interval)


def _discard_expired_uploads() -> None:
    """The timer worker also deletes staged uploads nobody sent a form with (engine/staging.py);
    the next staging write does the same, so a site without the worker is cleaned up too."""
    from engine.staging import discard_expired

    from .public.documents import staging_limits

    with unit_of_work():
        gone = discard_expired(db.session, utcnow(), staging_limits().max_age)
    if gone:
        click.echo(f"discarded {gone} expired staged upload(s)")


def _anchor_if_due() -> None:
    """The timer worker also signs the periodic audit anchor (a failure is logged, not fatal)."""
    from engine.errors import Conflict

    from .audit.signing import anchor_if_due

    try:
        with unit_of_work():
            anchor = anchor_if_due(utcnow())
    except Conflict as exc:
        current_app.logger.error("audit anchor not signed: %s %s", exc.message, exc.details or "")
        return
    if anchor is not None:
        click.echo(f"signed audit anchor {anchor.seq} over {anchor.case_count} cases")


def init_app(app: Flask) -> None:
    for group in (processes_cli, users_cli, demo_cli, timers_cli):
        app.cli.add_command(group)
