"""The inbox: role queues with counts, filters, search, sorting, paging; claim and take-next."""

from __future__ import annotations

import math
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from engine import cases as case_ops
from engine import regions
from engine.clock import utcnow
from engine.definitions import latest_definition, load_definition
from engine.errors import Conflict
from engine.inbox import TaskFilter, count_queues, list_tasks, next_task
from engine.intake import SERVICES
from engine.models import ProcessDefinition
from engine.roles import is_read_only

from ..auth import current_actor
from ..extensions import db
from ..i18n import gettext as _
from ..labels import service_label
from ..sealing import unseal
from . import bp, login_required
from .case_list import url_query

PER_PAGE = 20
SORTS = {
    "oldest": ("created", False),
    "newest": ("created", True),
    "due": ("due", False),
    "reference": ("reference", False),
}
FILTER_KEYS = ("queue", "service", "kecamatan", "step", "overdue", "q", "sort", "page")


def _filters(args: Any = None) -> dict[str, str]:
    """The inbox's query string (or the POSTed filter form), leniently: unknown values fall back
    to the defaults."""
    args = request.args if args is None else args
    values = {key: (args.get(key) or "").strip()[:100] for key in FILTER_KEYS}
    if args.get("qs"):  # a NIK searched for travels sealed (see inbox_search)
        values["q"] = (unseal(args["qs"]) or "").strip()[:100]
        values["qs"] = args["qs"]
    if values["queue"] not in ("available", "mine"):
        values["queue"] = "available"
    if values["sort"] not in SORTS:
        values["sort"] = "oldest"
    values["page"] = values["page"] if values["page"].isdigit() and 0 < int(values["page"]) < 100000 else "1"
    values["overdue"] = "1" if values["overdue"] in ("1", "on", "true") else ""
    return values


def _task_filter(values: dict[str, str]) -> TaskFilter:
    sort, descending = SORTS[values["sort"]]
    return TaskFilter(
        queue=values["queue"],
        service=values["service"] or None,
        kecamatan=values["kecamatan"] or None,
        step=values["step"] or None,
        overdue=bool(values["overdue"]),
        search=values["q"] or None,
        sort=sort,
        descending=descending,
        page=int(values["page"]),
        per_page=PER_PAGE,
    )


def _steps() -> list[tuple[str, str]]:
    """Every user task of the latest version of each procedure, for the step filter."""
    steps: dict[str, str] = {}
    for key in db.session.scalars(select(ProcessDefinition.key).distinct()):
        definition = latest_definition(db.session, key)
        if definition is None:
            continue
        for name, meta in load_definition(definition).tasks.items():
            steps.setdefault(name, _(meta.title))
    return sorted(steps.items(), key=lambda kv: kv[1])


def _url(values: dict[str, str], **changes: Any) -> str:
    return url_for("staff.inbox", **url_query({**values, **changes}))


@bp.post("/inbox")
@login_required
def inbox_search() -> Any:
    """The filter form is POSTed, so a NIK typed into the search never sits in a URL (address
    bar, history, server logs). htmx gets the table and the address to show (the NIK sealed,
    ``qs``); without JavaScript the answer is a redirect to that GET page."""
    values = _filters(request.form)
    values["page"] = "1"
    if request.headers.get("HX-Request"):
        fragment = current_app.make_response(_page(values, fragment=True))
        fragment.headers["HX-Push-Url"] = _url(values)
        return fragment
    return redirect(_url(values), 303)


@bp.get("/inbox")
@login_required
def inbox() -> Any:
    if is_read_only(current_actor()):  # an auditor has no queue: their work starts at the audit pages
        return redirect(url_for("audit.index"))
    # htmx asks for the table alone (polling, paging); a history restore wants the page.
    fragment = bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")
    return _page(_filters(), fragment)


def _page(values: dict[str, str], fragment: bool) -> Any:
    actor, now = current_actor(), utcnow()
    items, total = list_tasks(db.session, actor, _task_filter(values), now)
    context = {
        "values": values,
        "items": items,
        "total": total,
        "pages": max(1, math.ceil(total / PER_PAGE)),
        "counts": count_queues(db.session, actor, now),
        "url": lambda **changes: _url(values, **changes),
        "service_label": service_label,
    }
    if fragment:
        return render_template("staff/_task_table.html", fragment=True, **context)
    return render_template(
        "staff/inbox.html",
        services=[(key, _(label)) for key, (label, _desc) in SERVICES.items()],
        kecamatan=[(r.code, r.name) for r in regions.kecamatan_list()],
        steps=_steps(),
        **context,
    )


@bp.post("/inbox/next")
@login_required
def take_next() -> Any:
    """Claim the oldest task I may do; a few tries in case a colleague is quicker."""
    actor = current_actor()
    for _attempt in range(3):
        task_id = next_task(db.session, actor, utcnow())
        if task_id is None:
            flash(_("Tidak ada tugas yang tersedia untuk peran Anda saat ini."), "info")
            return redirect(url_for("staff.inbox"))
        try:
            case_ops.claim_task(db.session, task_id, actor, utcnow())
        except Conflict:
            db.session.rollback()  # nothing else was written: try the next task afresh
            continue
        return redirect(url_for("staff.task", task_id=task_id))
    current_app.logger.info("take-next gave up after repeated conflicts")
    flash(_("Tugas sedang diperebutkan; silakan coba lagi."), "error")
    return redirect(url_for("staff.inbox"))
