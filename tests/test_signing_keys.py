"""The signing key pair: `make run` creates a demo pair once; a mismatched or locked key is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from letters.signing import SigningKeyError, create_demo_key_pair, load_key_pair
from tests.conftest import make_config
from web import create_app


def test_the_demo_certificate_is_created_once_and_then_kept(tmp_path: Path) -> None:
    cert, key = tmp_path / "s" / "cert.pem", tmp_path / "s" / "key.pem"
    app = create_app(make_config(tmp_path, SIGNING_CERT_FILE=cert, SIGNING_KEY_FILE=key, ENV_NAME="development"))
    first = app.test_cli_runner().invoke(args=["letters", "demo-certificate"])
    assert first.exit_code == 0 and "Created a DEMO signing certificate" in first.output
    written = cert.read_bytes()
    again = app.test_cli_runner().invoke(args=["letters", "demo-certificate"])
    assert again.exit_code == 0 and "present" in again.output
    assert cert.read_bytes() == written
    assert key.stat().st_mode & 0o077 == 0  # the private key is readable by its owner only
    pair = load_key_pair(cert, key)
    assert pair.verify(pair.sign(b"anchor"), b"anchor")
    assert not pair.verify(pair.sign(b"anchor"), b"anchor!")


def test_production_never_gets_a_demo_certificate(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    app = create_app(make_config(tmp_path, SIGNING_CERT_FILE=cert, SIGNING_KEY_FILE=tmp_path / "k.pem", ENV_NAME="production"))
    result = app.test_cli_runner().invoke(args=["letters", "demo-certificate"])
    assert result.exit_code != 0 and "agency's own" in result.output
    assert not cert.exists()


def test_a_key_that_is_not_the_certificates_or_a_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    now = datetime(2026, 11, 2, tzinfo=UTC)
    a = create_demo_key_pair(tmp_path / "a.pem", tmp_path / "a.key", "Dinas A", now, passphrase="rahasia")
    create_demo_key_pair(tmp_path / "b.pem", tmp_path / "b.key", "Dinas B", now)
    assert load_key_pair(a.cert_file, a.key_file, "rahasia").fingerprint == a.fingerprint
    with pytest.raises(SigningKeyError, match="not the private key"):
        load_key_pair(tmp_path / "a.pem", tmp_path / "b.key")
    with pytest.raises(SigningKeyError, match="wrong passphrase"):
        load_key_pair(a.cert_file, a.key_file, "salah")
    with pytest.raises(SigningKeyError, match="cannot read"):
        load_key_pair(tmp_path / "missing.pem", a.key_file)
