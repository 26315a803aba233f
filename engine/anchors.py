"""Signed anchors over all cases' chain heads: tamper evidence beyond one case's chain.

A case's hash chain proves its events were not changed, but not that its *last* events, or
the whole case, were not removed together with the head the case row carries. An anchor is a
checkpoint over every case: the heads (event count, last hash) of the cases that moved since the
previous anchor, the number of cases, chained to the previous anchor by hash and signed with the
agency's key (the one letters are signed with). Folding all anchors gives each case's last
anchored head; a case must still hold that event with that hash, and every anchored case must
still exist.

Someone with full access to the database can delete the newest anchors along with what they
covered, so the anchors are exported (``flask --app web audit anchor export``, the auditor's
page) and an auditor keeps copies outside the system: :func:`compare_with_export` then proves a
rewrite against the copy, and the signature proves the copy itself came from the agency.
The key pair is the letters' (``letters.signing``, passed in); signatures are checked with
``cryptography`` (RSA PKCS#1 v1.5 or ECDSA with SHA-256); only the checkpoint format is ours.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cryptography import x509
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from .audit import canonical_json
from .chain import Difference
from .clock import aware
from .errors import Conflict
from .key_history import KeyEntry, KeyHistory, signature_valid
from .key_history import Signing as Signer  # the agency's key pair (letters.signing.KeyPair)
from .models import AuditAnchor, Case, CaseEvent

EXPORT_FORMAT = "sibalang-anchors/2"  # /2: with the key history
EXPORT_FORMAT_1 = "sibalang-anchors/1"
GENESIS = "0" * 64

Head = tuple[int, str]  # (event_count, last_event_hash)


class AnchorRefused(Conflict):
    """The database no longer holds what an earlier anchor signed: no new anchor over it."""

    code = "anchor_refused"


def load_certificate(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


# --- the anchor format ----------------------------------------------------------------------


def anchor_record(anchor: AuditAnchor) -> dict[str, Any]:
    """An anchor as exported (and as verified): plain JSON values."""
    return {
        "seq": anchor.seq,
        "created_at": aware(anchor.created_at).isoformat(),
        "case_count": anchor.case_count,
        "event_total": anchor.event_total,
        "heads": [list(h) for h in anchor.heads],
        "hash": anchor.hash,
        "signature": base64.b64encode(anchor.signature).decode(),
        "certificate_sha256": anchor.certificate_sha256,
    }


def anchor_hash(prev: str, record: dict[str, Any]) -> str:
    body = {k: record[k] for k in ("seq", "created_at", "case_count", "event_total", "heads", "certificate_sha256")}
    return hashlib.sha256((prev + canonical_json(body)).encode()).hexdigest()


def fold_heads(records: Iterable[dict[str, Any]]) -> dict[str, tuple[Head, int]]:
    """Each anchored case's last anchored head, with the anchor that signed it."""
    heads: dict[str, tuple[Head, int]] = {}
    for record in records:
        for reference, count, digest in record["heads"]:
            heads[reference] = ((int(count), str(digest)), int(record["seq"]))
    return heads


def stored_records(session: Session) -> list[dict[str, Any]]:
    return [anchor_record(a) for a in session.scalars(select(AuditAnchor).order_by(AuditAnchor.seq))]


def current_heads(session: Session) -> dict[str, Head]:
    rows = session.execute(select(Case.reference, Case.event_count, Case.last_event_hash))
    return {reference: (count, digest) for reference, count, digest in rows}


def create_anchor(session: Session, signer: Signer, now: datetime, *, force: bool = False) -> AuditAnchor | None:
    """Sign a new anchor over the heads that moved since the last one (None: nothing moved).

    Raises AnchorRefused when an anchored case is gone or no longer holds its anchored head.
    """
    records = stored_records(session)
    anchored = fold_heads(records)
    heads = current_heads(session)
    problems = head_problems(session, anchored, heads)
    if problems:
        raise AnchorRefused("Riwayat yang sudah dijangkarkan berubah; jangkar baru ditolak", [str(p) for p in problems])
    moved = sorted(
        [ref, count, digest]
        for ref, (count, digest) in heads.items()
        if anchored.get(ref, (None,))[0] != (count, digest)
    )
    last = records[-1] if records else None
    if not moved and not force and last is not None and last["case_count"] == len(heads):
        return None
    record: dict[str, Any] = {
        "seq": (last["seq"] if last else 0) + 1,
        "created_at": aware(now).isoformat(),
        "case_count": len(heads),
        "event_total": sum(count for count, _ in heads.values()),
        "heads": moved,
        "certificate_sha256": signer.fingerprint,
    }
    digest = anchor_hash(last["hash"] if last else GENESIS, record)
    anchor = AuditAnchor(
        seq=record["seq"],
        created_at=aware(now),
        case_count=record["case_count"],
        event_total=record["event_total"],
        heads=moved,
        hash=digest,
        signature=signer.sign(digest.encode()),
        certificate_sha256=signer.fingerprint,
    )
    session.add(anchor)
    session.flush()
    return anchor


def head_problems(session: Session, anchored: dict[str, tuple[Head, int]], heads: dict[str, Head]) -> list[Difference]:
    """Cases that lost what an anchor signed: gone, fewer events, or another event at that place."""
    problems: list[Difference] = []
    to_check: list[tuple[str, int, str]] = []
    for reference, ((count, digest), seq) in anchored.items():
        current = heads.get(reference)
        if current is None:
            problems.append(Difference(None, f"{reference}: case", f"anchored by anchor {seq}", "missing"))
        elif current[0] < count:
            problems.append(Difference(count, f"{reference}: event_count", f">= {count} (anchor {seq})", current[0]))
        else:  # the case row's head may be intact while the events under it are not
            to_check.append((reference, count, digest))
    problems += _anchored_events_changed(session, to_check)
    return problems


def _anchored_events_changed(session: Session, to_check: list[tuple[str, int, str]]) -> list[Difference]:
    problems = []
    for start in range(0, len(to_check), 500):
        chunk = to_check[start : start + 500]
        found = dict(
            ((reference, seq), digest)
            for reference, seq, digest in session.execute(
                select(Case.reference, CaseEvent.seq, CaseEvent.hash)
                .join(Case, Case.id == CaseEvent.case_id)
                .where(tuple_(Case.reference, CaseEvent.seq).in_([(r, c) for r, c, _ in chunk]))
            )
        )
        for reference, count, digest in chunk:
            if found.get((reference, count)) != digest:
                problems.append(Difference(count, f"{reference}: hash", digest, found.get((reference, count))))
    return problems


def check_anchor_chain(records: list[dict[str, Any]], keys: KeyHistory | x509.Certificate | None) -> list[Difference]:
    """Breaks in the anchors' own chain and signatures (``keys`` None: signatures unchecked).

    ``keys``: the agency's key history (or a single certificate); each anchor must be signed by a
    trusted key of it, before that key retired, and never by a key an earlier anchor's key replaced.
    """
    problems: list[Difference] = []
    prev = GENESIS
    history = KeyHistory.single(keys) if isinstance(keys, x509.Certificate) else keys
    superseded: set[str] = set()  # keys that handed over to the key of an anchor already seen
    for expected, record in enumerate(records, start=1):
        where = f"anchor {record['seq']}"
        if record["seq"] != expected:
            problems.append(Difference(None, f"{where}: seq", expected, record["seq"]))
        recomputed = anchor_hash(prev, record)
        if recomputed != record["hash"]:
            problems.append(Difference(None, f"{where}: hash", recomputed, record["hash"]))
        if history is not None:
            why = history.problem(str(record["certificate_sha256"]), str(record["created_at"]))
            if why is None and record["certificate_sha256"] in superseded:
                why = "a key not retired before this point of the chain", "a key a later anchor's key replaced"
            if why is None:
                superseded |= history.predecessors(record["certificate_sha256"])
            if why is not None:
                problems.append(Difference(None, f"{where}: certificate", *why))
            elif not signature_valid(
                history.trusted[record["certificate_sha256"]].certificate,
                base64.b64decode(record["signature"]),
                record["hash"].encode(),
            ):
                problems.append(Difference(None, f"{where}: signature", "valid", "invalid"))
        prev = record["hash"]
    return problems


HOW_TO_VERIFY = (
    "Each anchor's hash is SHA-256 (hex) of the previous anchor's hash (64 zeros before the first) "
    "followed by the canonical JSON (keys sorted, no spaces, UTF-8) of its fields seq, created_at, "
    "case_count, event_total, heads, certificate_sha256. Its signature (base64) is over the ASCII "
    "hex hash, RSA PKCS#1 v1.5 or ECDSA with SHA-256, by the certificate whose SHA-256 (DER) is "
    "certificate_sha256. A retired certificate's handover (base64) is its key's signature over the "
    "canonical JSON of {format: 'sibalang-key-handover/1', retired, successor, retired_at}: trust "
    "a certificate you knew, then each successor it handed over to; an anchor must be made before "
    "its key retired. heads lists [case reference, event count, hash of that event]."
)


def export_anchors(session: Session, keys: KeyHistory | x509.Certificate | None) -> dict[str, Any]:
    """Every anchor with the certificates that check them: the file an auditor keeps outside.

    ``certificates`` is the key history (retired keys with their handovers, then the current
    one); ``certificate`` the current one, as the first format had it.
    """
    records = stored_records(session)
    history = KeyHistory.single(keys) if isinstance(keys, x509.Certificate) else keys
    current = history.current if history is not None else None
    return {
        "format": EXPORT_FORMAT,
        "how_to_verify": HOW_TO_VERIFY,
        "certificate": current.as_dict()["certificate"] if current else None,
        "certificates": [e.as_dict() for e in history.entries if e.fingerprint in history.trusted] if history else [],
        "anchor_count": len(records),
        "last_hash": records[-1]["hash"] if records else GENESIS,
        "anchors": records,
    }


def read_export(document: Any, trust: set[str] | None = None) -> tuple[list[dict[str, Any]], KeyHistory | None]:
    """The anchors and key history of an exported file. Raises ValueError when it is not one.

    ``trust``: fingerprints the reader already trusts (from an earlier export, or published by the
    agency); without it the file's oldest key is taken as the start, so the file is only checked
    against itself.
    """
    if not isinstance(document, dict) or document.get("format") not in (EXPORT_FORMAT, EXPORT_FORMAT_1):
        raise ValueError(f"not an anchor export ({EXPORT_FORMAT})")
    records = document.get("anchors")
    if not isinstance(records, list):
        raise ValueError("anchor export without anchors")
    entries = [KeyEntry.from_dict(e) for e in document.get("certificates") or []]
    pem = document.get("certificate")
    if not entries and pem:
        entries = [KeyEntry(load_certificate(pem.encode()))]
    if not entries:
        return records, None
    successors = {e.successor for e in entries}
    roots = trust if trust is not None else {e.fingerprint for e in entries if e.fingerprint not in successors}
    return records, KeyHistory.of(entries, roots)


def verify_export(document: Any, trust: set[str] | None = None) -> list[Difference]:
    """What an auditor's own check of an export finds (no database): chain, keys, signatures."""
    records, history = read_export(document, trust)
    if history is None:
        return [Difference(None, "certificates", "the agency's certificates", None)]
    problems = check_anchor_chain(records, history)
    if records and records[-1]["hash"] != document.get("last_hash"):
        problems.append(Difference(None, "last_hash", records[-1]["hash"], document.get("last_hash")))
    return problems


def compare_with_export(stored: list[dict[str, Any]], exported: list[dict[str, Any]]) -> list[Difference]:
    """Every exported anchor must still be in the database, unchanged."""
    by_seq = {r["seq"]: r for r in stored}
    problems = []
    for record in exported:
        mine = by_seq.get(record["seq"])
        if mine is None:
            problems.append(Difference(None, f"anchor {record['seq']}", record["hash"], "missing from the database"))
        elif mine["hash"] != record["hash"]:
            problems.append(Difference(None, f"anchor {record['seq']}: hash", record["hash"], mine["hash"]))
    return problems


def latest_anchor(session: Session) -> AuditAnchor | None:
    return session.scalars(select(AuditAnchor).order_by(AuditAnchor.seq.desc()).limit(1)).first()


def anchor_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditAnchor)) or 0)
