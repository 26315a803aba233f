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
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pikepdf
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
from .text import N_

MIME_JPEG, MIME_PNG, MIME_PDF = "image/jpeg", "image/png", "application/pdf"
EXTENSIONS = {MIME_JPEG: "jpg", MIME_PNG: "png", MIME_PDF: "pdf"}
PILLOW_FORMATS = {MIME_JPEG: "JPEG", MIME_PNG: "PNG"}
GPS_IFD = 0x8825
# 24 megapixels: every phone's default photo (12–20 MP) fits; a 6000×6000 image (36 MP, ~108 MB
# once decoded) or a decompression bomb is refused from its header, before any pixel is decoded
MAX_PIXELS = 24_000_000
MAX_SIDE = 3000  # phone photos are shrunk to this: legible documents at a fraction of the bytes
# PDF names that make a viewer act by itself: scripts, launched programs, XFA forms, embedded
# files and media. A scanned letter or KTP has none of them.
PDF_ACTIVE_NAMES = frozenset({"/JS", "/JavaScript", "/Launch", "/XFA", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia"})


class DocumentTooLarge(EngineError):
    code = "payload_too_large"


class UnsupportedDocumentType(EngineError):
    code = "unsupported_media_type"


@dataclass(frozen=True)
class DocumentSettings:
    directory: Path
    max_bytes: int = 5 * 1024 * 1024
    max_pixels: int = MAX_PIXELS


@dataclass(frozen=True)
class CleanContent:
    """Bytes ``prepare_content`` checked and cleaned (``keep_gps`` as asked): ready to store."""

    data: bytes
    mime: str
    keep_gps: bool


def sniff_type(content: bytes) -> str | None:
    """The MIME type by magic bytes (never by file name): JPEG, PNG or PDF, else None."""
    if content.startswith(b"\xff\xd8\xff"):
        return MIME_JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return MIME_PNG
    if content.startswith(b"%PDF-"):
        return MIME_PDF
    return None


def size_text(size: int) -> str:
    """``5 MB``, or ``98 KB`` for a limit under one megabyte."""
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def too_large(limit: int) -> DocumentTooLarge:
    return DocumentTooLarge(N_("Ukuran berkas maksimal %(size)s."), params={"size": size_text(limit)})


def check_content(content: bytes, settings: DocumentSettings) -> str:
    """The cheap checks, without decoding anything: size, type by content and, for an image,
    its pixel count read from the header. Returns the MIME type; raises DocumentTooLarge,
    UnsupportedDocumentType. Forms run this on every file first and decode (``prepare_content``)
    only once everything else in the form is valid."""
    if len(content) > settings.max_bytes:
        raise too_large(settings.max_bytes)
    if not content:
        raise UnsupportedDocumentType("Berkas kosong.")
    mime = sniff_type(content)
    if mime is None:
        raise UnsupportedDocumentType("Jenis berkas tidak didukung. Unggah foto JPG/PNG atau PDF.")
    if mime != MIME_PDF:
        _check_pixels(content, mime, settings.max_pixels)
    return mime


def _check_pixels(content: bytes, mime: str, max_pixels: int) -> None:
    """Pillow's ``Image.open`` reads the header only: the size is known before any pixel is."""
    try:
        with Image.open(io.BytesIO(content), formats=[PILLOW_FORMATS[mime]]) as probe:
            width, height = probe.size
    except Image.DecompressionBombError:
        width, height = max_pixels + 1, 1  # Pillow's own limit (~179 MP): far over ours
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UnsupportedDocumentType("Berkas gambar rusak atau tidak dapat dibaca.") from None
    if width * height > max_pixels:
        raise UnsupportedDocumentType(
            f"Resolusi gambar terlalu besar (lebih dari {max_pixels / 1e6:.0f} megapiksel). "
            "Kecilkan foto lalu unggah lagi."
        )


def _reencode(content: bytes, mime: str, keep_gps: bool) -> bytes:
    """Decode and re-encode an image: drops EXIF (but the GPS position when asked), XMP, ICC,
    JPEG comment segments and PNG text chunks (and anything hidden after the image data)."""
    try:
        with Image.open(io.BytesIO(content), formats=[PILLOW_FORMATS[mime]]) as probe:
            probe.verify()
        image: Image.Image = Image.open(io.BytesIO(content), formats=[PILLOW_FORMATS[mime]])
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UnsupportedDocumentType("Berkas gambar rusak atau tidak dapat dibaca.") from None
    gps = image.getexif().get_ifd(GPS_IFD) if keep_gps else {}
    # apply the camera's rotation before the orientation tag is dropped with the rest of EXIF
    image = ImageOps.exif_transpose(image)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    # Pillow writes what ``info`` still holds (the JPEG comment, the ICC profile): keep only the
    # PNG transparency, which is part of the picture
    transparency = image.info.get("transparency")
    image.info.clear()
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
            transparency = None
        options = {"transparency": transparency} if transparency is not None else {}
        image.save(out, "PNG", optimize=True, **options)
    return out.getvalue()


def _check_pdf(content: bytes) -> None:
    """Refuse a PDF that is broken, locked, or holds active content (PDF_ACTIVE_NAMES), read with
    pikepdf (qpdf): every object, compressed object streams included."""
    try:
        with pikepdf.open(io.BytesIO(content)) as pdf:
            active = _active_names(pdf)
    except pikepdf.PasswordError:
        raise UnsupportedDocumentType("PDF ini dikunci kata sandi. Unggah PDF tanpa kata sandi.") from None
    except (pikepdf.PdfError, ValueError, RecursionError):
        raise UnsupportedDocumentType("Berkas PDF rusak atau tidak dapat dibaca.") from None
    if active:
        raise UnsupportedDocumentType(
            "PDF ini berisi JavaScript atau tindakan otomatis (" + ", ".join(sorted(active)) + "). "
            "Simpan ulang sebagai PDF biasa (Cetak → Simpan sebagai PDF) lalu unggah lagi."
        )


def _active_names(pdf: pikepdf.Pdf) -> set[str]:
    found: set[str] = set()
    for obj in pdf.objects:
        stack = [obj]
        while stack:
            item = stack.pop()
            if isinstance(item, pikepdf.Dictionary | pikepdf.Stream):
                for key in item.keys():  # noqa: SIM118 (a pikepdf object, not a dict)
                    if key in PDF_ACTIVE_NAMES:
                        found.add(key.lstrip("/"))
                    value = item.get(key)
                    if isinstance(value, pikepdf.Name) and str(value) in PDF_ACTIVE_NAMES:
                        found.add(str(value).lstrip("/"))
                    elif isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not value.is_indirect:
                        stack.append(value)
            elif isinstance(item, pikepdf.Array):
                stack.extend(v for v in item if isinstance(v, pikepdf.Dictionary | pikepdf.Array) and not v.is_indirect)
    return found


def prepare_content(content: bytes, settings: DocumentSettings, keep_gps: bool = False) -> tuple[bytes, str]:
    """Check size and type and clean the bytes; raises DocumentTooLarge, UnsupportedDocumentType."""
    cleaned = clean_content(content, settings, keep_gps)
    return cleaned.data, cleaned.mime


def clean_content(content: bytes, settings: DocumentSettings, keep_gps: bool = False) -> CleanContent:
    """``check_content``, then decode and re-encode an image or inspect a PDF: the expensive part.
    Raises DocumentTooLarge, UnsupportedDocumentType."""
    mime = check_content(content, settings)
    if mime == MIME_PDF:
        _check_pdf(content)
        return CleanContent(content, mime, keep_gps)
    return CleanContent(_reencode(content, mime, keep_gps), mime, keep_gps)


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
    content: bytes | CleanContent,
    kind: str,
    actor: Actor,
    now: datetime,
    settings: DocumentSettings,
    filename: str | None = None,
) -> Document:
    """Attach a document to a case and log ``document_added`` in the same unit of work.

    ``content`` is the uploaded bytes, or what ``clean_content`` made of them (not decoded twice).

    Raises DocumentTooLarge, UnsupportedDocumentType, InvalidSubmission (kind), Forbidden,
    NotWaiting (an applicant adding to a closed case).
    """
    check_kind(kind, actor)
    is_applicant = "applicant" in actor.roles
    keep_gps = kind == "foto_kunjungan" and not is_applicant
    if not isinstance(content, CleanContent) or content.keep_gps != keep_gps:
        content = clean_content(content.data if isinstance(content, CleanContent) else content, settings, keep_gps)
    cleaned, mime = content.data, content.mime
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
        filename=safe_filename(filename, kind, mime),
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


def safe_filename(filename: str | None, kind: str, mime: str) -> str:
    """The name stored and offered on download: the stem's letters and digits (any script, NFC)
    and ``-_``, never a path, control or direction character; the extension by the content."""
    stem = unicodedata.normalize("NFC", PurePosixPath((filename or "").replace("\\", "/")).stem)
    stem = "".join(c for c in stem if c.isalnum() or c in "-_")[:80] or kind
    return f"{stem}.{EXTENSIONS[mime]}"


def case_documents(session: Session, case: Case, applicant_view: bool = False) -> list[Document]:
    """The documents of ``case``; for the applicant's view without the staff-only kinds."""
    query = select(Document).where(Document.case_id == case.id)
    if applicant_view:
        query = query.where(Document.kind.not_in(STAFF_ONLY_DOCUMENT_KINDS))
    return list(session.scalars(query.order_by(Document.id)))


MAX_DOCUMENT_ID = 2**31 - 1  # document.id is an integer column (PostgreSQL: 32 bits)


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
