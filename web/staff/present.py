"""Read-only views shared by the task and case pages: documents, decisions, timeline entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, url_for
from sqlalchemy import select

from engine.audit import case_events
from engine.definitions import load_definition
from engine.models import Case, CaseEvent, Document, User
from engine.text import N_

from ..extensions import db
from ..i18n import EVENT_TEXT
from ..i18n import gettext as _
from ..labels import ROLE_TEXT, category_label, role_label, service_label, status_label
from .forms import describe

CHANNELS = {"front_office": N_("Loket layanan"), "online": N_("Daring")}


@dataclass
class Entry:
    """One line of a case's history as staff see it."""

    event: CaseEvent
    what: str
    who: str
    task_title: str | None = None
    lines: list[tuple[str, str]] = field(default_factory=list)
    text: str | None = None


def documents(case: Case) -> list[dict[str, Any]]:
    """The case's documents, each with a link when the documents route is installed."""
    rows = db.session.scalars(select(Document).where(Document.case_id == case.id).order_by(Document.created_at))
    return [{"doc": d, "url": document_url(d.id), "image": d.mime_type.startswith("image/")} for d in rows]


def document_url(document_id: int) -> str | None:
    """``/documents/<id>`` if some blueprint serves it (built in parallel in web/public)."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule.startswith("/documents/<") and rule.rule.count("<") == 1 and "GET" in (rule.methods or ()):
            arg = next(iter(rule.arguments))
            return url_for(rule.endpoint, **{arg: document_id})
    return None


def _names(usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    rows = db.session.execute(select(User.username, User.full_name).where(User.username.in_(usernames)))
    return {username: full_name for username, full_name in rows}


def timeline(case: Case, kinds: tuple[str, ...] | None = None) -> list[Entry]:
    """Every event of the case (or only ``kinds``), newest last, with what was entered."""
    loaded = load_definition(case.definition)
    events = [ev for ev in case_events(db.session, case) if kinds is None or ev.kind in kinds]
    names = _names({ev.actor for ev in events})
    entries = []
    for ev in events:
        meta = loaded.tasks.get(ev.task_spec or "")
        entry = Entry(
            event=ev,
            what=EVENT_TEXT.get(ev.kind, ev.kind),
            who=names.get(ev.actor) or (role_label(ev.actor) if ev.actor in ROLE_TEXT else ev.actor),
            task_title=meta.title if meta else ev.task_spec,
        )
        payload = ev.payload or {}
        if ev.kind == "task_completed":
            entry.lines = describe(loaded.form_schema(ev.task_spec or ""), payload.get("data") or {})
        elif ev.kind == "case_started":
            data = payload.get("data") or {}
            category = data.get("ppks_category") or data.get("category")
            entry.lines = [
                (label, str(value))
                for label, value in (
                    (_("Layanan"), service_label(data.get("service"), case.kind) if data.get("service") else None),
                    (_("Kategori"), category_label(category) if category else None),
                    (_("Uraian"), data.get("description")),
                    (_("Saluran"), _(CHANNELS.get(str(data.get("channel")), "")) if data.get("channel") else None),
                )
                if value
            ]
        elif ev.kind == "companion_assigned":
            entry.text = f"{payload.get('name', '')} ({payload.get('role', '')}). {payload.get('note') or ''}".strip()
        elif ev.kind == "comment":
            entry.text = str(payload.get("text", ""))
        elif ev.kind == "case_closed":
            entry.text = f"{status_label(payload.get('status'))}. {payload.get('reason') or ''}"
        elif ev.kind == "message_received":
            entry.lines = describe(None, payload.get("data") or {})
        elif ev.kind == "timer_fired":
            entry.text = ", ".join(payload.get("timers") or [])
        elif ev.kind == "letter_issued":
            entry.text = str((payload.get("letter") or {}).get("number", ""))
        elif ev.kind == "letter_revoked":
            entry.text = f"{(payload.get('letter') or {}).get('number', '')}: {payload.get('reason', '')}"
        entries.append(entry)
    return entries
