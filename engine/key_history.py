"""The agency's signing keys over time: anchors signed by a retired key still verify.

When the agency rotates its key (``flask --app web letters rotate-key``) the retiring key signs a
*handover*: "key A, retired at T, is followed by key B". The retired certificate and its handover
are kept in the history directory (``SIGNING_HISTORY_DIR``) and travel with every anchor export,
so an auditor who trusted key A once (its fingerprint from an earlier export) can follow the
handovers to every later key without trusting the system that hands them the file.

An anchor verifies when the certificate it names is trusted — the starting point, or reached
from it by valid handovers — its signature checks with that certificate, it was made before that
key's retirement (a retired key, even stolen, cannot add anchors after it), and no anchor of a
later key precedes it in the chain (keys only move forward). A certificate named by no valid
handover is unknown, whoever put its file where.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from .audit import canonical_json
from .clock import aware

HANDOVER_FORMAT = "sibalang-key-handover/1"


class Signing(Protocol):
    @property
    def fingerprint(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


def fingerprint_of(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def signature_valid(certificate: x509.Certificate, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` over ``data`` is ``certificate``'s (RSA PKCS#1 v1.5 or ECDSA, SHA-256)."""
    public = certificate.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def handover_message(retired: str, successor: str, retired_at: datetime) -> bytes:
    """What a retiring key signs: its own fingerprint, its successor's, and when it retired."""
    body = {
        "format": HANDOVER_FORMAT,
        "retired": retired,
        "successor": successor,
        "retired_at": aware(retired_at).isoformat(),
    }
    return canonical_json(body).encode()


@dataclass(frozen=True)
class KeyEntry:
    """One certificate of the history; a retired one names its successor and the handover signature."""

    certificate: x509.Certificate
    retired_at: datetime | None = None
    successor: str | None = None
    handover: bytes | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.certificate)

    def handover_valid(self) -> bool:
        if self.retired_at is None or self.successor is None or self.handover is None:
            return False
        message = handover_message(self.fingerprint, self.successor, self.retired_at)
        return signature_valid(self.certificate, self.handover, message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "certificate": self.certificate.public_bytes(serialization.Encoding.PEM).decode(),
            "retired_at": aware(self.retired_at).isoformat() if self.retired_at else None,
            "successor": self.successor,
            "handover": base64.b64encode(self.handover).decode() if self.handover else None,
        }

    @classmethod
    def from_dict(cls, record: Any) -> KeyEntry:
        """Raises ValueError when ``record`` is not one."""
        if not isinstance(record, dict) or not isinstance(record.get("certificate"), str):
            raise ValueError("a key history entry needs its certificate (PEM)")
        retired_at = record.get("retired_at")
        handover = record.get("handover")
        return cls(
            certificate=x509.load_pem_x509_certificate(record["certificate"].encode()),
            retired_at=aware(datetime.fromisoformat(retired_at)) if retired_at else None,
            successor=str(record["successor"]) if record.get("successor") else None,
            handover=base64.b64decode(handover) if handover else None,
        )


@dataclass(frozen=True)
class KeyHistory:
    """The certificates that may have signed anchors, and which of them are trusted."""

    entries: tuple[KeyEntry, ...]
    trusted: dict[str, KeyEntry]

    @classmethod
    def of(cls, entries: list[KeyEntry], roots: set[str]) -> KeyHistory:
        """Trust ``roots`` (fingerprints) and every key a trusted key handed over to."""
        by_fingerprint = {e.fingerprint: e for e in entries}
        trusted = {fp: by_fingerprint[fp] for fp in roots if fp in by_fingerprint}
        frontier = list(trusted.values())
        while frontier:
            entry = frontier.pop()
            following = by_fingerprint.get(entry.successor or "")
            if following is not None and following.fingerprint not in trusted and entry.handover_valid():
                trusted[following.fingerprint] = following
                frontier.append(following)
        return cls(tuple(entries), trusted)

    @classmethod
    def single(cls, certificate: x509.Certificate) -> KeyHistory:
        return cls.of([KeyEntry(certificate)], {fingerprint_of(certificate)})

    @classmethod
    def local(cls, current: x509.Certificate, retired: list[KeyEntry]) -> KeyHistory:
        """The agency's own view: the configured certificate, and the retired keys that led to it.

        Walking back from the current certificate, a retired key counts when its valid handover
        names a key already counted; a certificate file no handover leads from is not trusted.
        """
        entries = [*retired, KeyEntry(current)]
        trusted = {fingerprint_of(current): entries[-1]}
        changed = True
        while changed:
            changed = False
            for entry in retired:
                if entry.fingerprint not in trusted and entry.successor in trusted and entry.handover_valid():
                    trusted[entry.fingerprint] = entry
                    changed = True
        return cls(tuple(entries), trusted)

    @property
    def current(self) -> KeyEntry | None:
        """The trusted key that is not retired."""
        return next((e for e in self.trusted.values() if e.retired_at is None), None)

    def predecessors(self, fingerprint: str) -> set[str]:
        """The trusted keys that handed over, directly or through others, to ``fingerprint``."""
        found: set[str] = set()
        frontier = [fingerprint]
        while frontier:
            target = frontier.pop()
            for entry in self.trusted.values():
                if entry.successor == target and entry.fingerprint not in found:
                    found.add(entry.fingerprint)
                    frontier.append(entry.fingerprint)
        return found

    def problem(self, fingerprint: str, created_at: str) -> tuple[str, str] | None:
        """Why an anchor made at ``created_at`` by ``fingerprint`` does not verify: (expected, found)."""
        entry = self.trusted.get(fingerprint)
        if entry is None:
            return "a key of the agency's key history", f"unknown key {fingerprint}"
        if entry.retired_at is not None and aware(datetime.fromisoformat(created_at)) > entry.retired_at:
            return f"made before the key retired ({entry.retired_at.isoformat()})", f"made {created_at}"
        return None


def read_history_dir(directory: Path | None) -> list[KeyEntry]:
    """The retired keys kept in ``directory`` (one JSON file each); unreadable files are skipped."""
    if directory is None or not directory.is_dir():
        return []
    entries = []
    for path in sorted(directory.glob("*.json")):
        try:
            entries.append(KeyEntry.from_dict(json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return entries


def retire(old: Signing, old_certificate: x509.Certificate, successor: str, now: datetime, directory: Path) -> Path:
    """Record ``old``'s handover to ``successor`` in ``directory``; return the file written."""
    message = handover_message(old.fingerprint, successor, now)
    entry = KeyEntry(old_certificate, aware(now), successor, old.sign(message))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{old.fingerprint}.json"
    path.write_text(json.dumps(entry.as_dict(), indent=1) + "\n")
    return path
