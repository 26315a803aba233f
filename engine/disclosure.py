"""What each role sees of an applicant's personal data — decided here, and only here.

The rule (UU PDP, data minimisation): a role sees what its step of the procedure needs.

| role         | sees (besides name, masked NIK, desa and the request itself)                     |
|--------------|-----------------------------------------------------------------------------------|
| operator     | full NIK, KK number, birth date, sex, the documents (to check them: verifikasi)   |
| supervisor   | address, phone (to call), a map of the desa, birth date, sex, documents (visit)   |
| manager      | birth date, sex, documents (reviews the verification and the visit)               |
| kabid        | birth date, sex, documents (chooses the intervention, e.g. a wheelchair's size)   |
| front_office | full NIK (checks the KTP at hand-over), phone, address (delivers the letter)      |
| kadis        | nothing more (acknowledges the manager's review)                                  |
| auditor      | the documents (audits what was decided on), no contact or identity numbers        |
| admin        | nothing more (runs the system, not cases)                                         |

Lists never show a full NIK; they show the phone only to roles that call applicants.
Every view that shows any of it is written to the access log by the caller (web layer).
"""

from __future__ import annotations

from typing import Any

from .audit import Actor
from .models import Case
from .validation import mask_nik

NIK = "nik"
KK = "kk_number"
BIRTH_DATE = "birth_date"
GENDER = "gender"
PHONE = "phone"
ADDRESS = "address"
MAP = "map"
DOCUMENTS = "documents"

ROLE_NEEDS: dict[str, frozenset[str]] = {
    "operator": frozenset({NIK, KK, BIRTH_DATE, GENDER, DOCUMENTS}),
    "supervisor": frozenset({ADDRESS, PHONE, MAP, BIRTH_DATE, GENDER, DOCUMENTS}),
    "manager": frozenset({BIRTH_DATE, GENDER, DOCUMENTS}),
    "kabid": frozenset({BIRTH_DATE, GENDER, DOCUMENTS}),
    "front_office": frozenset({NIK, PHONE, ADDRESS}),
    "kadis": frozenset(),
    "auditor": frozenset({DOCUMENTS}),
    "admin": frozenset(),
}


def disclosed_fields(actor: Actor) -> frozenset[str]:
    """Everything ``actor``'s roles need, together."""
    found: frozenset[str] = frozenset()
    for role in actor.roles:
        found |= ROLE_NEEDS.get(role, frozenset())
    return found


def may_see(actor: Actor, what: str) -> bool:
    return what in disclosed_fields(actor)


def mask_phone(phone: str | None) -> str | None:
    """``+6281234567800`` → ``0812****7800`` (enough to recognise it, not to call it)."""
    if not phone:
        return None
    local = "0" + phone[3:] if phone.startswith("+62") else phone
    return local[:4] + "*" * max(0, len(local) - 8) + local[-4:] if len(local) > 8 else "****"


def local_phone(phone: str | None) -> str | None:
    """``+6281234567800`` → ``081234567800``, as people dial and read it."""
    if not phone:
        return None
    return "0" + phone[3:] if phone.startswith("+62") else phone


def applicant_view(case: Case, actor: Actor, start_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The applicant's personal data ``actor`` may see, with ``disclosed`` naming what is there.

    A complaint has no person: its phone comes from the start data (the complainant's own).
    """
    allowed = disclosed_fields(actor)
    person = case.person
    data = start_data or {}
    view: dict[str, Any] = {"disclosed": sorted(allowed & {NIK, KK, BIRTH_DATE, GENDER, PHONE, ADDRESS, MAP})}
    if person is not None:
        view["nik"] = person.nik if NIK in allowed else mask_nik(person.nik)
        if KK in allowed:
            view["kk_number"] = person.kk_number
        if BIRTH_DATE in allowed:
            view["birth_date"] = person.birth_date
        if GENDER in allowed:
            view["gender"] = person.gender
        if PHONE in allowed:
            view["phone"] = person.phone
        if ADDRESS in allowed:
            view["address"] = person.address
    elif PHONE in allowed and data.get("phone"):
        view["phone"] = data.get("phone")
    return view
