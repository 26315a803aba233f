"""The configured signing key pair for the app, and ``flask --app web letters demo-certificate``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app

from engine.clock import utcnow
from letters.signing import KeyPair, SigningKeyError, create_demo_key_pair, load_key_pair

from .unit_of_work import CommandGroup

letters_cli = CommandGroup("letters", help="Recommendation letters: signing certificate.")


def key_pair() -> KeyPair:
    """The agency's key pair from SIGNING_CERT_FILE / SIGNING_KEY_FILE, read once per app
    (the letters' key; audit anchors may sign with it too). Raises SigningKeyError."""
    from .letters import letter_service

    return letter_service().key_pair


@letters_cli.command("demo-certificate")
def demo_certificate() -> None:
    """Create a self-signed demo certificate and key where the settings point, unless present."""
    config = current_app.config
    cert_file, key_file = config["SIGNING_CERT_FILE"], config["SIGNING_KEY_FILE"]
    if cert_file.exists() or key_file.exists():
        try:
            pair = load_key_pair(cert_file, key_file, config["SIGNING_KEY_PASSPHRASE"])
        except SigningKeyError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Signing certificate present: {cert_file} ({pair.certificate.subject.rfc4514_string()})")
        return
    if config["ENV_NAME"] == "production":
        raise click.ClickException("no signing certificate configured; production uses the agency's own (README)")
    pair = create_demo_key_pair(
        cert_file, key_file, config["AGENCY"].full_name, utcnow(), config["SIGNING_KEY_PASSPHRASE"]
    )
    click.echo(f"Created a DEMO signing certificate {cert_file} (SHA-256 {pair.fingerprint[:16]}…)")


@letters_cli.command("rotate-key")
@click.option(
    "--cert", "cert_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="New certificate (PEM)"
)
@click.option(
    "--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Its private key (PEM)"
)
@click.option("--demo", is_flag=True, help="Make a new demo pair instead (not in production)")
def rotate_key(cert_file: Path | None, key_file: Path | None, demo: bool) -> None:
    """Replace the agency's signing key; the old key signs its handover to the new one.

    The retired certificate and the handover go to the key history (SIGNING_HISTORY_DIR), so
    anchors signed before the rotation still verify and exports carry the chain of keys. The new
    key is read with SIGNING_KEY_PASSPHRASE, the same as the old one.
    """
    from engine.key_history import retire

    from .audit.signing import history_dir

    config = current_app.config
    if demo == bool(cert_file and key_file) or bool(cert_file) != bool(key_file):
        raise click.UsageError("give --cert and --key, or --demo")
    if demo and config["ENV_NAME"] == "production":
        raise click.ClickException("production rotates to the agency's own new certificate (--cert, --key)")
    passphrase = config["SIGNING_KEY_PASSPHRASE"]
    try:
        old = load_key_pair(config["SIGNING_CERT_FILE"], config["SIGNING_KEY_FILE"], passphrase)
    except SigningKeyError as exc:
        raise click.ClickException(f"the current key: {exc}") from None
    staging = Path(tempfile.mkdtemp(prefix="rotate-", dir=Path(config["SIGNING_CERT_FILE"]).parent))
    try:
        if demo:
            new = create_demo_key_pair(
                staging / "cert.pem", staging / "key.pem", config["AGENCY"].full_name, utcnow(), passphrase
            )
        else:
            assert cert_file is not None and key_file is not None
            try:
                new = load_key_pair(cert_file, key_file, passphrase)
            except SigningKeyError as exc:
                raise click.ClickException(f"the new key: {exc}") from None
        if new.fingerprint == old.fingerprint:
            raise click.ClickException("the new certificate is the current one")
        signed = _first_anchor(new)
        kept = retire(old, old.certificate, new.fingerprint, utcnow(), history_dir())
        _replace(config["SIGNING_KEY_FILE"], new.key_file.read_bytes(), private=True)
        _replace(config["SIGNING_CERT_FILE"], new.cert_file.read_bytes())
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    click.echo(f"Signing key rotated: {old.fingerprint[:16]}… retired ({kept}), now {new.fingerprint[:16]}…")
    if signed is not None:
        click.echo(f"Anchor {signed} signed with the new key.")
    click.echo("Web workers sign their next letters with the new key (they notice the replaced files).")


def _first_anchor(new: KeyPair) -> int | None:
    """An anchor by the new key at once: from it on, no older key's anchor may follow (and none
    from a key someone claims handed over to the new one)."""
    from engine import anchors
    from engine.errors import Conflict

    from .extensions import db

    try:
        anchor = anchors.create_anchor(db.session, new, utcnow(), force=True)
    except Conflict as exc:
        click.echo(f"No anchor signed with the new key: {exc.message}", err=True)
        return None
    return anchor.seq if anchor is not None else None


def _replace(path: Path, content: bytes, private: bool = False) -> None:
    """Write ``content`` to ``path`` in one step (a reader sees the old file or the new one)."""
    fresh = path.with_name(path.name + ".new")
    fresh.write_bytes(content)
    if private:
        fresh.chmod(0o600)
    os.replace(fresh, path)


def init_app(app: Flask) -> None:
    app.cli.add_command(letters_cli)
