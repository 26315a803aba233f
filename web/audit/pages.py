"""The auditors' pages: case list, a case's audit page with time travel, anchors, access log.

Read-only: the only POSTs recompute (verify now, check an anchor file); nothing here writes but
the access log entries that every view of personal data leaves.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from engine import anchors, key_history, regions
from engine.audit_search import AccessQuery, CaseQuery, case_outcomes, find_access, find_cases
from engine.cases import get_case
from engine.clock import utcnow
from engine.definitions import load_definition
from engine.inbox import STATUS_TEXT, case_summary, log_access, start_data
from engine.intake import SERVICES
from engine.integrity import CaseVerdict, verify_case
from engine.key_history import KeyHistory
from engine.models import Case
from engine.replay import Snapshot, history_snapshots

from ..auth import current_actor, staff_required
from ..extensions import db
from ..i18n import EVENT_TEXT
from ..i18n import gettext as _
from ..sealing import seal, unseal
from ..staff import login_required
from ..staff.inbox import service_label
from ..staff.present import timeline
from . import bp
from .signing import agency_certificate, agency_keys

PER_PAGE = 25
STATUSES = ("active", "completed", "rejected", "expired")
auditor_page = staff_required("auditor", "admin")


class CaseListArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    service = fields.String(load_default=None, validate=validate.Length(max=32))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    kecamatan = fields.String(load_default=None, validate=validate.Length(max=8))
    actor = fields.String(load_default=None, validate=validate.Length(max=64))
    outcome = fields.String(load_default=None, validate=validate.Length(max=64))
    reference = fields.String(load_default=None, validate=validate.Length(max=32))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))


class AccessArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    nik = fields.String(load_default=None, validate=validate.Regexp(r"^\d{16}$", error="NIK harus 16 angka."))
    username = fields.String(load_default=None, validate=validate.Length(max=64))
    reference = fields.String(load_default=None, validate=validate.Length(max=32))
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))


def _args(schema: Schema, given: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The query string (or ``given``) through ``schema`` (empty values dropped); errors by field."""
    source = request.args if given is None else given
    raw = {k: v.strip() for k, v in source.items() if v and v.strip()}
    try:
        return schema.load(raw), {}
    except ValidationError as invalid:
        messages = invalid.messages if isinstance(invalid.messages, dict) else {"_": invalid.messages}
        valid = {k: v for k, v in (invalid.valid_data or {}).items() if k not in messages}
        loaded = schema.load({k: v for k, v in raw.items() if k not in messages})
        return {**loaded, **valid}, messages


def _pages(total: int) -> int:
    return max(1, math.ceil(total / PER_PAGE))


@bp.get("/")
@login_required
@auditor_page
def index() -> Any:
    values, errors = _args(CaseListArgs())
    page = values.pop("page")
    cases, total = find_cases(db.session, CaseQuery(**values), page, PER_PAGE)
    return render_template(
        "audit/index.html",
        cases=cases,
        total=total,
        page=page,
        pages=_pages(total),
        values=values,
        errors=errors,
        services=[(key, label) for key, (label, *_rest) in SERVICES.items()],
        statuses=[(s, STATUS_TEXT.get(s, s)) for s in STATUSES],
        kecamatan=[(k.code, k.name) for k in regions.kecamatan_list()],
        outcomes=case_outcomes(db.session),
        service_label=service_label,
        status_text=STATUS_TEXT,
        args={k: v for k, v in request.args.items() if k != "page" and v},
    ), (400 if errors else 200)


def _access_query(source: Any) -> dict[str, str]:
    """The access-log search as a query string with the NIK sealed (``nik_token``)."""
    keys = ("nik", "username", "reference", "date_from", "date_to")
    query = {k: source.get(k, "").strip() for k in keys if source.get(k, "").strip()}
    if "nik" in query:
        query["nik_token"] = seal(query.pop("nik"))
    return query


@bp.post("/access")
@login_required
@auditor_page
def access_search() -> Any:
    """The search form is POSTed, so the NIK never sits in the address bar, history or logs."""
    return redirect(url_for("audit.access", **_access_query(request.form)), 303)


def case_verdict(case: Case) -> CaseVerdict:
    """The case's chain, replay and what the anchors signed of it."""
    anchored = anchors.fold_heads(anchors.stored_records(db.session)).get(case.reference)
    return verify_case(db.session, case, anchored)


def _selected(snapshots: list[Snapshot]) -> Snapshot | None:
    seq = request.args.get("event", "")
    if seq.isdigit():
        return next((s for s in snapshots if s.seq == int(seq)), snapshots[-1] if snapshots else None)
    return snapshots[-1] if snapshots else None


@bp.get("/cases/<reference>")
@login_required
@auditor_page
def case(reference: str) -> Any:
    case = get_case(db.session, reference)
    log_access(db.session, case, current_actor(), "audit", utcnow())
    snapshots = history_snapshots(db.session, case)
    selected = _selected(snapshots)
    loaded = load_definition(case.definition)
    return render_template(
        "audit/case.html",
        case=case,
        summary=case_summary(case, start_data(db.session, case)),
        entries=timeline(case),
        snapshots=snapshots,
        selected=selected,
        titles={name: meta.title for name, meta in loaded.tasks.items()},
        verdict=case_verdict(case),
        checked_at=utcnow(),
        status_text=STATUS_TEXT.get(case.status, case.status),
        service_label=service_label,
        event_text=EVENT_TEXT,
    )


@bp.post("/cases/<reference>/verify")
@login_required
@auditor_page
def verify_now(reference: str) -> Any:
    """Recompute the case's chain, anchor and replay checks now (writes nothing but the log)."""
    case = get_case(db.session, reference)
    log_access(db.session, case, current_actor(), "verify", utcnow())
    verdict = case_verdict(case)
    if verdict.consistent:
        flash(_("Rantai hash utuh dan pemutaran ulang sesuai dengan data tersimpan."), "success")
    else:
        flash(_("Ditemukan ketidaksesuaian") + f": {len(verdict.differences)}", "error")
    return redirect(url_for("audit.case", reference=case.reference, event=request.form.get("event") or None))


@bp.get("/access")
@login_required
@auditor_page
def access() -> Any:
    if request.args.get("nik"):  # a NIK in a URL (an old link, a typed address): answer sealed
        return redirect(url_for("audit.access", **_access_query(request.args)), 303)
    given = dict(request.args.items())
    if given.get("nik_token"):
        given["nik"] = unseal(given.pop("nik_token")) or ""
    values, errors = _args(AccessArgs(), given)
    page = values.pop("page")
    entries, total = [], 0
    if any(values.values()):
        entries, total = find_access(db.session, AccessQuery(**values), page, PER_PAGE)
    return render_template(
        "audit/access.html",
        entries=entries,
        total=total,
        page=page,
        pages=_pages(total),
        values=values,
        errors=errors,
        args={k: v for k, v in request.args.items() if k != "page" and v},
        nik_url=lambda nik: url_for("audit.access", nik_token=seal(nik)),
    ), (400 if errors else 200)


@bp.get("/anchors")
@login_required
@auditor_page
def anchor_list() -> Any:
    return _anchors_page(None)


def _key_rows(keys: KeyHistory | None) -> list[dict[str, Any]]:
    """The agency's signing keys, newest first: each certificate, whether it is trusted (the
    configured one, or one whose valid handover leads to it) and when it retired, to which key."""
    if keys is None:
        return []
    rows = []
    for entry in reversed(keys.entries):
        rows.append(
            {
                "subject": entry.certificate.subject.rfc4514_string(),
                "fingerprint": entry.fingerprint,
                "trusted": entry.fingerprint in keys.trusted,
                "retired_at": entry.retired_at,
                "successor": entry.successor,
            }
        )
    return rows


def _anchors_page(result: dict[str, Any] | None, keys: KeyHistory | None = None) -> Any:
    records = anchors.stored_records(db.session)
    certificate = agency_certificate()
    configured = agency_keys()
    return render_template(
        "audit/anchors.html",
        records=list(reversed(records)),
        problems=anchors.check_anchor_chain(records, keys or configured),
        certificate=certificate,
        fingerprint=key_history.fingerprint_of(certificate) if certificate else None,
        keys=_key_rows(configured),
        result=result,
    )


@bp.post("/anchors/check")
@login_required
@auditor_page
def anchor_check() -> Any:
    """Check the database against an anchor file the auditor kept (nothing is stored)."""
    upload = request.files.get("anchors")
    records = anchors.stored_records(db.session)
    keys = agency_keys()
    result: dict[str, Any] = {"error": None, "problems": []}
    try:
        exported, file_keys = anchors.read_export(json.loads((upload.read() if upload else b"") or b"null"))
    except (ValueError, TypeError, UnicodeDecodeError):
        result["error"] = _("Berkas ini bukan ekspor jangkar Layar Sibalang.")
    else:
        keys = keys or file_keys
        problems = anchors.check_anchor_chain(exported, keys)
        problems += anchors.compare_with_export(records, exported)
        problems += anchors.head_problems(db.session, anchors.fold_heads(exported), anchors.current_heads(db.session))
        result.update(problems=problems, anchors=len(exported))
    return _anchors_page(result, keys), (422 if result["error"] else 200)
