"""Issuing letters inside the procedure's unit of work: number, render, sign, store, audit.

The number comes from a counter per series and year (``engine.cases.next_counter``: one upsert
that holds the counter row until commit), taken in the transaction that stores the letter, so a
rolled-back issue leaves no gap and two issues never share a number. The signed PDF is rendered
once and stored with its SHA-256; it never changes. Functions flush, never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import regions
from engine.agency import AgencyProfile
from engine.audit import Actor, append_event
from engine.cases import next_counter
from engine.clock import aware
from engine.errors import Conflict, InvalidSubmission, NotFound
from engine.intake import PPKS_CATEGORIES
from engine.models import Case, Letter, Person

from .content import Applicant, CaseFacts, LetterDraft, draft_recommendation, draft_rejection
from .dates import local_date
from .pdf import KeyPairSigner, render_pdf, sign_pdf
from .render import Issue, render_html
from .signing import KeyPair


class LetterAlreadyRevoked(Conflict):
    code = "letter_revoked"


def case_facts(session: Session, case: Case, timezone: str) -> CaseFacts:
    """The case and its applicant as letters print them."""
    person = None
    if case.person_id is not None:
        person = session.execute(
            select(
                Person.name, Person.nik, Person.birth_date, Person.gender, Person.address, Person.village_code
            ).where(Person.id == case.person_id)
        ).first()
    village_code = (person.village_code if person else None) or case.village_code or ""
    village = regions.village(village_code) if village_code else None
    kecamatan = regions.kecamatan_of(village_code) if village_code else None
    applicant = Applicant(
        name=(person.name if person else None) or case.applicant_name or "",
        nik=(person.nik if person else "") or "",
        birth_date=person.birth_date if person else None,
        gender=person.gender if person else None,
        address=(person.address if person else "") or "",
        desa=village.name if village else "",
        kecamatan=kecamatan.name if kecamatan else "",
    )
    return CaseFacts(
        reference=case.reference,
        applied_on=local_date(aware(case.created_at), timezone),
        service=case.service,
        ppks_label=PPKS_CATEGORIES.get(case.ppks_category or "", case.ppks_category or ""),
        bidang=case.bidang,
        applicant=applicant,
    )


def mask_name(name: str) -> str:
    """``Aminah binti Saleh`` → ``Ami*** b**** S****``: recognisable to its bearer, not to others."""
    words = name.split()
    masked = []
    for i, word in enumerate(words):
        keep = min(3, (len(word) + 1) // 2) if i == 0 else 1
        masked.append(word[:keep] + "*" * (len(word) - keep))
    return " ".join(masked)


def certificate_name(pair: KeyPair) -> str:
    """Who issued the signing certificate, as the letter's footer names them."""
    names = pair.certificate.issuer.get_attributes_for_oid(
        NameOID.COMMON_NAME
    ) or pair.certificate.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    value = names[0].value if names else pair.certificate.issuer.rfc4514_string()
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


@dataclass
class LetterService:
    """Everything issuing needs, built once by the app from its settings (plain values).

    The key pair is read on first use (``load_keys``), so steps that issue nothing never need it.
    """

    profile: AgencyProfile
    load_keys: Callable[[], KeyPair]
    public_base_url: str  # QR codes point to {public_base_url}/verify/{token}
    timezone: str

    @cached_property
    def key_pair(self) -> KeyPair:
        """Raises letters.signing.SigningKeyError when the configured files are unusable."""
        return self.load_keys()

    @cached_property
    def signer(self) -> KeyPairSigner:
        return KeyPairSigner(self.key_pair)

    def verify_url(self, token: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/verify/{token}"

    def draft(self, session: Session, case: Case, series: str, source: str, data: Mapping[str, Any]) -> LetterDraft:
        """What the letter of ``series`` issued at ``source`` says, from the workflow ``data``."""
        if series not in self.profile.series:
            raise InvalidSubmission(f"Seri surat {series!r} tidak ada dalam profil instansi")
        facts = case_facts(session, case, self.timezone)
        if series == "pemberitahuan":
            return draft_rejection(self.profile, facts, source, data)
        return draft_recommendation(self.profile, facts, data)

    def preview_html(
        self, session: Session, case: Case, series: str, source: str, data: Mapping[str, Any], now: datetime
    ) -> str:
        """The letter as it would be issued now, without number, QR code and signature."""
        draft = self.draft(session, case, series, source, data)
        issue = Issue(None, local_date(aware(now), self.timezone), certificate_issuer=certificate_name(self.key_pair))
        return render_html(self.profile, draft, issue)

    def issue(
        self,
        session: Session,
        case: Case,
        series: str,
        source: str,
        data: Mapping[str, Any],
        actor: Actor,
        now: datetime,
        change: Any = None,
    ) -> Letter:
        """Number, render, sign and store the letter; append ``letter_issued`` to the case's chain."""
        draft = self.draft(session, case, series, source, data)
        return issue_letter(session, self, case, draft, source, actor, now, change)


def issue_letter(
    session: Session,
    service: LetterService,
    case: Case,
    draft: LetterDraft,
    source: str,
    actor: Actor,
    now: datetime,
    change: Any = None,
) -> Letter:
    """Store ``draft`` as an issued, numbered, signed letter of ``case`` (flushes, never commits)."""
    profile = service.profile
    series = profile.series[draft.series]
    day = local_date(aware(now), service.timezone)
    token = secrets.token_urlsafe(18)
    seq = next_counter(session, f"letter:{draft.series}:{day.year}")  # held until commit: no gaps
    number = series.number(seq, day.year, day.month, case.bidang or "")
    issue = Issue(number, day, service.verify_url(token), token, certificate_name(service.key_pair))
    html = render_html(profile, draft, issue)
    pdf = sign_pdf(
        render_pdf(html),
        service.signer,
        reason=f"{series.title} {number}",
        location=profile.place,
        contact=profile.email,
    )
    letter = Letter(
        case_id=case.id,
        series=draft.series,
        year=day.year,
        seq=seq,
        number=number,
        source=source,
        subject=draft.subject[:200],
        applicant_name=draft.case.applicant.name[:200],
        service=case.service,
        verify_token=token,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        pdf=pdf,
        issued_at=aware(now),
        issued_by=actor.username,
        status="valid",
    )
    session.add(letter)
    session.flush()
    payload = {"letter": letter_record(letter)}
    if change is not None:  # inside the engine's change of the case: written with its other events
        change.event("letter_issued", actor, now, task_spec=source, payload=payload)
    else:
        append_event(session, case, "letter_issued", actor, now, task_spec=source, payload=payload)
    return letter


def letter_record(letter: Letter) -> dict[str, Any]:
    """The letter as the audit log records it (what a replay compares)."""
    return {
        "series": letter.series,
        "number": letter.number,
        "sha256": letter.sha256,
        "verify_token": letter.verify_token,
        "size": letter.size,
        "source": letter.source,
    }


def revoke_letter(session: Session, letter: Letter, reason: str, actor: Actor, now: datetime) -> Letter:
    """Revoke ``letter`` with ``reason`` (audited on its case). Raises InvalidSubmission, LetterAlreadyRevoked."""
    reason = " ".join((reason or "").split())
    if len(reason) < 5:
        raise InvalidSubmission("Alasan pencabutan wajib diisi (minimal 5 karakter)", {"reason": "Minimal 5 karakter"})
    if len(reason) > 1000:
        raise InvalidSubmission(
            "Alasan pencabutan terlalu panjang (maksimal 1000 karakter)", {"reason": "Maksimal 1000 karakter"}
        )
    case = session.scalars(select(Case).where(Case.id == letter.case_id).with_for_update()).one()
    if letter.status == "revoked":
        raise LetterAlreadyRevoked(f"Surat {letter.number} sudah dicabut")
    letter.status = "revoked"
    letter.revoked_at = aware(now)
    letter.revoked_by = actor.username
    letter.revocation_reason = reason
    session.flush()
    append_event(
        session,
        case,
        "letter_revoked",
        actor,
        now,
        payload={"letter": {"number": letter.number, "sha256": letter.sha256}, "reason": reason},
        case_values={"updated_at": aware(now)},
    )
    return letter


def letters_of(session: Session, case: Case) -> list[Letter]:
    """The case's letters, oldest first."""
    return list(session.scalars(select(Letter).where(Letter.case_id == case.id).order_by(Letter.id)))


def current_letter(session: Session, case: Case) -> Letter | None:
    """The case's latest letter (its recommendation or its rejection notice)."""
    found = letters_of(session, case)
    return found[-1] if found else None


def letter_by_token(session: Session, token: str) -> Letter:
    """The letter a verification code names. Raises NotFound."""
    letter = session.scalars(select(Letter).where(Letter.verify_token == token)).first() if token else None
    if letter is None:
        raise NotFound("Surat tidak ditemukan")
    return letter


def pdf_of(session: Session, letter: Letter) -> bytes:
    """The stored PDF, exactly as issued."""
    pdf = session.scalar(select(Letter.pdf).where(Letter.id == letter.id))
    if pdf is None:
        raise NotFound("Berkas surat tidak ditemukan")
    return bytes(pdf)


def verification(letter: Letter) -> dict[str, Any]:
    """What the public verification page and API show of a letter (name partly masked)."""
    return {
        "number": letter.number,
        "series": letter.series,
        "issued_at": letter.issued_at,
        "subject": letter.subject,
        "applicant": mask_name(letter.applicant_name),
        "service": letter.service,
        "status": letter.status,
        "revoked_at": letter.revoked_at,
        "sha256": letter.sha256,
    }


def bytes_match(letter: Letter, upload: bytes) -> bool:
    """Whether ``upload`` is byte for byte the issued PDF (compared by SHA-256)."""
    return secrets.compare_digest(hashlib.sha256(upload).hexdigest(), letter.sha256)
