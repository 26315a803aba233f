"""What an attacker with full database access does: drop the append-only triggers, edit rows.

Tests use it to prove that such edits are still found (hash chains, replay, signed anchors),
and :func:`signing_pair` makes the agency key and certificate a deployment would configure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from engine.append_only import APPEND_ONLY_TABLES, drop_statements, install_statements
from web.extensions import db


@contextlib.contextmanager
def guards_dropped() -> Iterator[None]:
    """Without the append-only triggers (as the database owner can), then with them again."""
    dialect = db.engine.dialect.name
    db.session.commit()
    with db.engine.begin() as connection:
        for table in APPEND_ONLY_TABLES:
            for statement in drop_statements(dialect, table):
                connection.exec_driver_sql(statement)
    try:
        yield
    finally:
        db.session.commit()
        with db.engine.begin() as connection:
            for table in APPEND_ONLY_TABLES:
                for statement in install_statements(dialect, table):
                    connection.exec_driver_sql(statement)


def signing_pair(directory: Path, common_name: str = "Dinas Sosial Kabupaten Balangan") -> tuple[Path, Path]:
    """A P-256 key and a self-signed certificate, as PEM files in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / "signing-key.pem", directory / "signing-cert.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file
