"""The configured signing key pair for the app, and ``flask --app web letters demo-certificate``."""

from __future__ import annotations

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


def init_app(app: Flask) -> None:
    app.cli.add_command(letters_cli)
