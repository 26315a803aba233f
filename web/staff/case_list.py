"""Case search and the overview: every case a user may see (open and closed), and counts with charts."""

from __future__ import annotations

import math
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, redirect, render_template, request, url_for

from engine import disclosure, regions
from engine.case_search import CaseFilter, count_cases, search_cases
from engine.clock import utcnow
from engine.inbox import STATUS_TEXT, log_access
from engine.intake import COMPLAINT_CATEGORIES, SERVICES
from engine.models import Case
from engine.validation import mask_nik

from ..auth import current_actor
from ..extensions import db
from ..i18n import gettext as _
from ..labels import service_label, status_label
from ..public.forms import kecamatan_groups
from ..sealing import looks_like_nik, seal, unseal
from . import bp, login_required

PER_PAGE = 25
KEYS = ("q", "service", "status", "kecamatan", "desa", "from", "to", "page")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _values() -> dict[str, str]:
    """The query string, leniently: unknown values are dropped, not refused. A NIK searched for
    arrives sealed (``qs``, see ``search_redirect``) and is opened here."""
    values = {key: (request.args.get(key) or "").strip()[:100] for key in KEYS}
    if request.args.get("qs"):
        values["q"] = (unseal(request.args["qs"]) or "").strip()[:100]
        values["qs"] = request.args["qs"]
    if values["service"] not in SERVICES and values["service"] not in COMPLAINT_CATEGORIES:
        values["service"] = ""
    if values["status"] not in STATUS_TEXT:
        values["status"] = ""
    for key in ("from", "to"):
        if _day(values[key]) is None:
            values[key] = ""
    values["page"] = values["page"] if values["page"].isdigit() and 0 < int(values["page"]) < 100000 else "1"
    return values


def url_query(values: dict[str, str]) -> dict[str, str]:
    """The values as a query string: a NIK only ever sealed (``qs``), never readable in a URL."""
    query = {k: v for k, v in values.items() if v not in ("", None)}
    if looks_like_nik(query.get("q", "")):
        query["qs"] = query.get("qs") or seal(query["q"])
        del query["q"]
    else:
        query.pop("qs", None)
    return query


def search_redirect(endpoint: str) -> Any:
    """The search form is POSTed (a NIK typed into a GET form would sit in the address bar, the
    history and every log): answer with the GET page to bookmark, the NIK sealed."""
    values = {key: (request.form.get(key) or "").strip()[:100] for key in KEYS if key != "page"}
    return redirect(url_for(endpoint, **url_query(values)), 303)


@bp.post("/cases")
@login_required
def case_search() -> Any:
    return search_redirect("staff.case_list")


@bp.post("/cases/overview")
@login_required
def overview_search() -> Any:
    return search_redirect("staff.case_overview")


def _filter(values: dict[str, str]) -> CaseFilter:
    return CaseFilter(
        search=values["q"] or None,
        service=values["service"] or None,
        status=values["status"] or None,
        kecamatan=values["kecamatan"] or None,
        village=values["desa"] or None,
        created_from=_day(values["from"]),
        created_to=_day(values["to"]),
        page=int(values["page"]),
        per_page=PER_PAGE,
    )


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _choices() -> dict[str, Any]:
    return {
        "services": [(k, _(v[0])) for k, v in SERVICES.items()] + [(k, _(v)) for k, v in COMPLAINT_CATEGORIES.items()],
        "statuses": [(k, _(v)) for k, v in STATUS_TEXT.items()],
        "groups": kecamatan_groups(),
    }


@bp.get("/cases")
@login_required
def case_list() -> Any:
    values = _values()
    if looks_like_nik(request.args.get("q", "")):  # an old link or a typed URL: do not keep it
        return redirect(url_for("staff.case_list", **url_query(values)), 303)
    actor = current_actor()
    items, total = search_cases(db.session, actor, _filter(values), _zone())
    calls = disclosure.may_see(actor, disclosure.PHONE)
    for item in items:
        item["nik_masked"] = mask_nik(item.pop("nik")) if item.get("nik") else None
        phone = item.pop("phone")
        item["phone_shown"] = disclosure.local_phone(phone) if calls else disclosure.mask_phone(phone)
        item["phone_callable"] = calls and bool(phone)
    _log_listed(actor, [item["reference"] for item in items])

    def url(**changes: Any) -> str:
        return url_for("staff.case_list", **url_query({**values, **{k: str(v) for k, v in changes.items()}}))

    return render_template(
        "staff/cases.html",
        values=values,
        items=items,
        total=total,
        pages=max(1, math.ceil(total / PER_PAGE)),
        url=url,
        overview_query=url_query({k: v for k, v in values.items() if k != "page"}),
        service_label=service_label,
        **_choices(),
    )


def _log_listed(actor: Any, references: list[str]) -> None:
    """A list shows names (and masked numbers): each listed case gets an access-log row."""
    if not references:
        return
    now = utcnow()
    for case in db.session.query(Case).filter(Case.reference.in_(references)):
        log_access(db.session, case, actor, "list", now)


def _bars(rows: list[tuple[str, int]], width: int = 170) -> dict[str, Any]:
    """Geometry of a horizontal bar chart (server-rendered SVG): one bar per row, scaled to the max."""
    biggest = max((n for _label, n in rows), default=0) or 1
    bar_h, gap = 22, 8
    bars = [
        {"label": label, "count": n, "y": i * (bar_h + gap), "w": max(2, round(width * n / biggest))}
        for i, (label, n) in enumerate(rows)
    ]
    return {"bars": bars, "height": max(1, len(bars)) * (bar_h + gap), "bar_h": bar_h, "width": width}


@bp.get("/cases/overview")
@login_required
def case_overview() -> Any:
    values = _values()
    if looks_like_nik(request.args.get("q", "")):
        return redirect(url_for("staff.case_overview", **url_query(values)), 303)
    actor = current_actor()
    counts = count_cases(db.session, actor, _filter(values), _zone())
    kecamatan_names = {r.code: r.name for r in regions.kecamatan_list()}
    status = [(status_label(k), n) for k, n in counts["status"]]
    stage = [(_(k) if k else "–", n) for k, n in counts["stage"]]
    service = [(service_label(k), n) for k, n in counts["service"]]
    kecamatan = [(kecamatan_names.get(k or "", k or "–"), n) for k, n in counts["kecamatan"]]
    return render_template(
        "staff/overview.html",
        values=values,
        total=sum(n for _k, n in counts["status"]),
        tables={"status": status, "stage": stage, "service": service, "kecamatan": kecamatan},
        charts={"status": _bars(status), "kecamatan": _bars(kecamatan)},
        list_url=url_for("staff.case_list", **url_query({k: v for k, v in values.items() if k != "page"})),
        **_choices(),
    )
