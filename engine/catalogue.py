"""The service catalogue: which procedure each public service and the complaint form start.

Configured in a TOML file (``agency/layanan.toml``, setting ``SERVICE_CATALOGUE``); entries an
administrator saves (``service_entry`` rows) override the file's by key, so an agency adds a
service — say disaster aid with its own small diagram — without a code change.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .admin_log import record_admin_event
from .audit import Actor
from .errors import InvalidSubmission
from .models import ProcessDefinition, ServiceEntry

COMPLAINT = "aduan"
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


class CatalogueInvalid(ValueError):
    """The configured catalogue file cannot be used (raised at start-up)."""


@dataclass(frozen=True)
class Service:
    key: str
    label: str
    description: str
    process: str
    kind: str = "application"  # application | complaint
    documents: tuple[str, ...] = ()
    active: bool = True


@dataclass(frozen=True)
class Catalogue:
    """The configured services; ``complaint`` is what the complaint form starts."""

    services: dict[str, Service] = field(default_factory=dict)
    complaint: Service = Service(COMPLAINT, "Aduan", "", "aduan", kind="complaint")


def load_catalogue(path: Path | str) -> Catalogue:
    """Read the catalogue file; raise CatalogueInvalid naming the bad entry."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueInvalid(f"service catalogue {path}: {exc}") from exc
    services = {}
    for key, entry in (raw.get("services") or {}).items():
        services[key] = _service(key, entry, "application", str(path))
    complaint = _service(COMPLAINT, raw.get("complaint") or {"process": "aduan"}, "complaint", str(path))
    return Catalogue(services=services, complaint=complaint)


def _service(key: str, entry: Any, kind: str, where: str) -> Service:
    if not KEY_PATTERN.match(key) or not isinstance(entry, dict):
        raise CatalogueInvalid(f"{where}: service '{key}' needs a key of a-z, 0-9, _ and a table of settings")
    process = entry.get("process")
    if not isinstance(process, str) or not process:
        raise CatalogueInvalid(f"{where}: service '{key}' needs process = \"<process id>\"")
    documents = entry.get("documents") or []
    if not isinstance(documents, list) or not all(isinstance(d, str) for d in documents):
        raise CatalogueInvalid(f"{where}: service '{key}': documents must be a list of document kinds")
    return Service(
        key=key,
        label=str(entry.get("label") or key),
        description=str(entry.get("description") or ""),
        process=process,
        kind=kind,
        documents=tuple(documents),
        active=bool(entry.get("active", True)),
    )


def _from_row(row: ServiceEntry) -> Service:
    return Service(
        key=row.key,
        label=row.label,
        description=row.description,
        process=row.process_key,
        kind=row.kind,
        documents=tuple(row.documents or ()),
        active=row.active,
    )


def current_catalogue(session: Session, configured: Catalogue) -> Catalogue:
    """The configured catalogue with the administrators' entries applied (inactive ones kept)."""
    services = dict(configured.services)
    complaint = configured.complaint
    for row in session.scalars(select(ServiceEntry).order_by(ServiceEntry.key)):
        if row.kind == "complaint":
            complaint = _from_row(row)
        else:
            services[row.key] = _from_row(row)
    return Catalogue(services=services, complaint=complaint)


def offered_services(session: Session, configured: Catalogue) -> dict[str, Service]:
    """Active application services, in catalogue order: what the public form offers."""
    return {k: s for k, s in current_catalogue(session, configured).services.items() if s.active}


def catalogue_processes(session: Session, configured: Catalogue) -> set[str]:
    """Procedures the public forms start: the live ones."""
    catalogue = current_catalogue(session, configured)
    return {s.process for s in catalogue.services.values() if s.active} | {catalogue.complaint.process}


def save_service(
    session: Session,
    configured: Catalogue,
    values: dict[str, Any],
    actor: Actor,
    now: datetime,
    document_kinds: set[str] | frozenset[str] = frozenset(),
) -> Service:
    """Add or change a service (audited). Raises InvalidSubmission with a message per field.

    The procedure must be deployed: a service never starts a procedure that does not exist.
    """
    problems: dict[str, str] = {}
    key = str(values.get("key") or "").strip()
    kind = "complaint" if key == COMPLAINT else "application"
    if not KEY_PATTERN.match(key):
        problems["key"] = "Kode layanan: 2–32 huruf kecil, angka atau _, diawali huruf."
    label = str(values.get("label") or "").strip()
    if not 2 <= len(label) <= 100:
        problems["label"] = "Nama layanan 2–100 karakter."
    description = str(values.get("description") or "").strip()[:500]
    process = str(values.get("process") or "").strip()
    if not session.scalars(select(ProcessDefinition.id).where(ProcessDefinition.key == process).limit(1)).first():
        problems["process"] = f"Prosedur '{process}' belum dipasang: pasang diagramnya dahulu."
    documents = [d for d in values.get("documents") or [] if d]
    unknown = [d for d in documents if document_kinds and d not in document_kinds]
    if unknown:
        problems["documents"] = f"Jenis dokumen tidak dikenal: {', '.join(unknown)}"
    active = bool(values.get("active", True))
    if kind == "complaint" and not active:
        problems["active"] = "Formulir aduan tidak dapat dinonaktifkan."
    if problems:
        raise InvalidSubmission("Layanan tidak dapat disimpan", details=problems)
    row = session.get(ServiceEntry, key)
    before = asdict(_from_row(row)) if row else asdict(configured.services[key]) if key in configured.services else None
    if row is None:
        row = ServiceEntry(key=key)
        session.add(row)
    row.kind, row.label, row.description, row.process_key = kind, label, description, process
    row.documents, row.active, row.updated_by, row.updated_at = documents, active, actor.username, now
    session.flush()
    service = _from_row(row)
    record_admin_event(session, actor, "service_saved", key, now, {"before": before, "after": asdict(service)})
    return service
