"""A case's history for auditors to take away: JSON (every event with its hash), CSV, PDF summary.

The JSON is the record itself (each event's content, its hash and the hash it chains from), so
anyone can recompute the chain outside the system. The PDF is rendered by WeasyPrint.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Response, render_template

from engine.audit import case_events, chained
from engine.cases import get_case
from engine.clock import utcnow
from engine.inbox import STATUS_TEXT, case_summary, log_access, start_data
from engine.models import Case

from ..auth import current_actor
from ..extensions import db
from ..staff import login_required
from ..staff.inbox import service_label
from ..staff.present import timeline
from . import bp
from .pages import auditor_page, case_verdict

CSV_FIELDS = ("seq", "at", "kind", "actor", "role", "task_spec", "task_id", "payload", "prev_hash", "hash")


def _history(case: Case) -> list[dict[str, Any]]:
    return [
        {
            "seq": event.seq,
            "at": event.at.isoformat(),
            "kind": event.kind,
            "actor": event.actor,
            "role": event.role,
            "task_spec": event.task_spec,
            "task_id": event.task_id,
            "payload": event.payload,
            "prev_hash": prev,
            "hash": event.hash,
        }
        for event, prev in chained(case_events(db.session, case))
    ]


def _exported(reference: str, action: str) -> Case:
    case = get_case(db.session, reference)
    log_access(db.session, case, current_actor(), action, utcnow())
    return case


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.get("/cases/<reference>/history.json")
@login_required
@auditor_page
def history_json(reference: str) -> Any:
    case = _exported(reference, "export_json")
    verdict = case_verdict(case)
    document = {
        "reference": case.reference,
        "procedure": {"key": case.definition.key, "version": case.definition.version, "sha256": case.definition.sha256},
        "status": case.status,
        "outcome": case.outcome,
        "head": {"event_count": case.event_count, "last_event_hash": case.last_event_hash},
        "exported_at": utcnow().isoformat(),
        "verification": verdict.as_dict(),
        "events": _history(case),
    }
    text = json.dumps(document, ensure_ascii=False, indent=1, default=str)
    return _download(text, "application/json", f"{case.reference}-riwayat.json")


@bp.get("/cases/<reference>/history.csv")
@login_required
@auditor_page
def history_csv(reference: str) -> Any:
    case = _exported(reference, "export_csv")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for row in _history(case):
        writer.writerow({**row, "payload": json.dumps(row["payload"], ensure_ascii=False, sort_keys=True)})
    return _download(out.getvalue().encode("utf-8-sig"), "text/csv", f"{case.reference}-riwayat.csv")


@bp.get("/cases/<reference>/summary.pdf")
@login_required
@auditor_page
def summary_pdf(reference: str) -> Any:
    from weasyprint import HTML  # heavy: loaded when a PDF is asked for

    case = _exported(reference, "export_pdf")
    html = render_template(
        "audit/summary_pdf.html",
        case=case,
        summary=case_summary(case, start_data(db.session, case)),
        entries=timeline(case),
        verdict=case_verdict(case),
        generated_at=utcnow(),
        auditor=current_actor(),
        status_text=STATUS_TEXT.get(case.status, case.status),
        service_label=service_label,
    )
    pdf = HTML(string=html).write_pdf()
    return _download(pdf, "application/pdf", f"{case.reference}-ringkasan-audit.pdf")


@bp.get("/anchors/export.json")
@login_required
@auditor_page
def anchors_export() -> Any:
    from engine import anchors

    from .signing import agency_keys

    document = anchors.export_anchors(db.session, agency_keys())
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return _download(
        json.dumps(document, ensure_ascii=False, indent=1), "application/json", f"jangkar-audit-{stamp}.json"
    )
