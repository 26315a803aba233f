"""Case documents: type checked by content, images re-encoded without metadata, stored by sha256.

The bytes live in a directory outside the web root (``DOCUMENT_DIR``), addressed by their
sha256; the ``document`` row and its ``document_added`` audit event are written in the
caller's unit of work, so a rolled-back upload leaves at most an unreferenced file behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import Actor, append_event
from .cases import lock_case
from .clock import aware
from .errors import EngineError, Forbidden, InvalidSubmission, NotWaiting
from .inbox import missing_documents
from .intake import DOCUMENT_KIND_OWNERS, DOCUMENT_KINDS, STAFF_ONLY_DOCUMENT_KINDS
from .models import Case, CaseEvent, Document
from .roles import require_writer

MIME_JPEG, MIME_PNG, MIME_PDF = "image/jpeg", "image/png", "application/pdf"
EXTENSIONS = {MIME_JPEG: "jpg", MIME_PNG: "png", MIME_PDF: "pdf"}
GPS_IFD = 0x8825
MAX_PIXELS = 40_000_000  # a 40-megapixel photo is plenty; beyond it is a decompression bomb
MAX_SIDE = 3000  # phone photos are shrunk to this: legible documents at a fraction of the bytes


class DocumentTooLarge(EngineError):
    code = "payload_too_large"


class UnsupportedDocumentType(EngineError):
    code = "unsupported_media_type"


@dataclass(frozen=True)
class DocumentSettings:
    directory: Path
    max_bytes: int = 5 * 1024 * 1024


def sniff_type(content: bytes) -> str | None:
    """The MIME type by magic bytes (never by file name): JPEG, PNG or PDF, else None."""
    if content.startswith(b"\xff\xd8\xff"):
        return MIME_JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return MIME_PNG
    if content.startswith(b"%PDF-"):
        return MIME_PDF
    return None


def _reencode(content: bytes, mime: str, keep_gps: bool) -> bytes:
    """Decode and re-encode an image: drops EXIF/XMP/comments (and anything hidden after them)."""
    try:
        with Image.open(io.BytesIO(content)) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise UnsupportedDocumentType("Gambar terlalu besar (resolusi berlebihan).")
            probe.verify()
        image: Image.Image = Image.open(io.BytesIO(content))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UnsupportedDocumentType("Berkas gambar rusak atau tidak dapat dibaca.") from None
    gps = image.getexif().get_ifd(GPS_IFD) if keep_gps else {}
    # apply the camera's rotation before the orientation tag is dropped with the rest of EXIF
    image = ImageOps.exif_transpose(image)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    exif = Image.Exif()
    if gps:
        exif[GPS_IFD] = gps
    if mime == MIME_JPEG:
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=85, optimize=True, exif=exif.tobytes() if gps else b"")
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def prepare_content(content: bytes, settings: DocumentSettings, keep_gps: bool = False) -> tuple[bytes, str]:
    """Check size and type and clean the bytes; raises DocumentTooLarge, UnsupportedDocumentType."""
    if len(content) > settings.max_bytes:
        raise DocumentTooLarge(f"Ukuran berkas maksimal {settings.max_bytes // (1024 * 1024)} MB.")
    if not content:
        raise UnsupportedDocumentType("Berkas kosong.")
    mime = sniff_type(content)
    if mime is None:
        raise UnsupportedDocumentType("Jenis berkas tidak didukung. Unggah foto JPG/PNG atau PDF.")
    if mime == MIME_PDF:
        return content, mime
    return _reencode(content, mime, keep_gps), mime


def _store(directory: Path, digest: str, content: bytes) -> None:
    path = document_path(directory, digest)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def document_path(directory: Path, digest: str) -> Path:
    return directory / digest[:2] / digest[2:4] / digest


def check_kind(kind: str, actor: Actor) -> None:
    """Raises InvalidSubmission for an unknown kind, Forbidden for a kind ``actor`` may not upload
    (a read-only role, or a kind owned by other roles)."""
    require_writer(actor)
    if kind not in DOCUMENT_KINDS:
        raise InvalidSubmission("Jenis dokumen tidak dikenal.", {"kind": "Pilihan tidak valid."})
    owners = DOCUMENT_KIND_OWNERS.get(kind)
    if owners is not None and not owners & set(actor.roles):
        raise Forbidden("Jenis dokumen ini hanya diunggah oleh petugas yang berwenang.")


def visible_to_applicant(document: Document) -> bool:
    return document.kind not in STAFF_ONLY_DOCUMENT_KINDS


def add_document(
    session: Session,
    case: Case,
    content: bytes,
    kind: str,
    actor: Actor,
    now: datetime,
    settings: DocumentSettings,
    filename: str | None = None,
) -> Document:
    """Attach a document to a case and log ``document_added`` in the same unit of work.

    Raises DocumentTooLarge, UnsupportedDocumentType, InvalidSubmission (kind), Forbidden,
    NotWaiting (an applicant adding to a closed case).
    """
    check_kind(kind, actor)
    is_applicant = "applicant" in actor.roles
    cleaned, mime = prepare_content(content, settings, keep_gps=kind == "foto_kunjungan" and not is_applicant)
    case = lock_case(session, case.id)
    if is_applicant and case.status != "active":
        raise NotWaiting("Permohonan ini sudah ditutup; dokumen tidak dapat ditambahkan.")
    digest = hashlib.sha256(cleaned).hexdigest()
    _store(settings.directory, digest, cleaned)
    document = Document(
        case_id=case.id,
        kind=kind,
        sha256=digest,
        mime_type=mime,
        size=len(cleaned),
        filename=_safe_filename(filename, kind, mime),
        uploaded_by=actor.username,
        created_at=aware(now),
    )
    session.add(document)
    session.flush()
    append_event(
        session,
        case,
        "document_added",
        actor,
        now,
        payload={"document_id": document.id, "kind": kind, "sha256": digest, "mime_type": mime, "size": len(cleaned)},
        case_values={"updated_at": now},
    )
    return document


def _safe_filename(filename: str | None, kind: str, mime: str) -> str:
    stem = "".join(c for c in Path(filename or "").stem if c.isalnum() or c in "-_")[:80] or kind
    return f"{stem}.{EXTENSIONS[mime]}"


def case_documents(session: Session, case: Case, applicant_view: bool = False) -> list[Document]:
    """The documents of ``case``; for the applicant's view without the staff-only kinds."""
    query = select(Document).where(Document.case_id == case.id)
    if applicant_view:
        query = query.where(Document.kind.not_in(STAFF_ONLY_DOCUMENT_KINDS))
    return list(session.scalars(query.order_by(Document.id)))


MAX_DOCUMENT_ID = 2**63 - 1


def get_document(
    session: Session, case: Case | None, document_id: int, applicant_view: bool = False
) -> Document | None:
    """A document by id, only if it belongs to ``case`` when one is given (and, for the
    applicant's view, only a kind the applicant may see)."""
    if not 0 < document_id <= MAX_DOCUMENT_ID:
        return None
    document = session.get(Document, document_id)
    if document is None or (case is not None and document.case_id != case.id):
        return None
    if applicant_view and not visible_to_applicant(document):
        return None
    return document


def read_document(settings: DocumentSettings, document: Document) -> bytes:
    return document_path(settings.directory, document.sha256).read_bytes()


def missing_documents_status(session: Session, case: Case) -> list[dict[str, Any]]:
    """What the operator asked for, each with whether the applicant uploaded it since."""
    kinds = missing_documents(session, case)
    if not kinds:
        return []
    asked_at = session.scalar(
        select(CaseEvent.at)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == "task_completed", CaseEvent.task_spec == "verifikasi")
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    )
    uploaded = {
        d.kind for d in case_documents(session, case) if asked_at is None or aware(d.created_at) >= aware(asked_at)
    }
    return [{"kind": k, "label": DOCUMENT_KINDS.get(k, k), "uploaded": k in uploaded} for k in kinds]
