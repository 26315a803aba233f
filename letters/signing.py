"""The agency's signing key pair (PEM files): loading it, and a self-signed demo pair for development.

Letters are signed with it (PAdES, :mod:`letters.pdf`); audit anchors may sign with the same pair
through :func:`load_key_pair`. In production the agency plugs in its own certificate, e.g. one issued
for government electronic signatures (README, "Signing certificate"): the files are PEM, the key
optionally encrypted with ``SIGNING_KEY_PASSPHRASE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID

from engine.key_history import fingerprint_of, signature_valid


class SigningKeyError(Exception):
    """The certificate or key file is missing, unreadable, or the two do not belong together."""


@dataclass(frozen=True)
class KeyPair:
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    cert_file: Path
    key_file: Path
    passphrase: bytes | None

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate (DER), hex: names the key that signed something."""
        return fingerprint_of(self.certificate)

    def sign(self, data: bytes) -> bytes:
        """A detached raw signature over ``data`` (RSA PKCS#1 v1.5 or ECDSA, SHA-256)."""
        if isinstance(self.private_key, rsa.RSAPrivateKey):
            return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is this certificate's signature over ``data``."""
        return signature_valid(self.certificate, signature, data)


def load_key_pair(cert_file: Path, key_file: Path, passphrase: str = "") -> KeyPair:
    """Read the PEM certificate and private key; raises :class:`SigningKeyError`."""
    secret = passphrase.encode("utf-8") if passphrase else None
    try:
        certificate = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
        key: PrivateKeyTypes = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=secret)
    except OSError as exc:
        raise SigningKeyError(f"cannot read signing file: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"signing certificate or key not readable (wrong passphrase?): {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningKeyError("the signing key must be RSA or EC")
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    if key.public_key().public_bytes(encoding, public) != certificate.public_key().public_bytes(encoding, public):
        raise SigningKeyError(f"{key_file} is not the private key of the certificate {cert_file}")
    return KeyPair(certificate, key, Path(cert_file), Path(key_file), secret)


def create_demo_key_pair(
    cert_file: Path, key_file: Path, organization: str, now: datetime, passphrase: str = ""
) -> KeyPair:
    """Write a self-signed certificate and key for development (valid 5 years) and return them.

    Not for real letters: nobody trusts a self-signed certificate but this instance.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    common_name = f"{organization} (DEMO, bukan sertifikat resmi)"
    if len(common_name) > 64:  # X.509's upper bound for both attributes
        common_name = f"{organization[:57].rstrip()} (DEMO)"
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=5 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase
        else serialization.NoEncryption()
    )
    key_bytes = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    for path in (cert_file, key_file):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(key_file).touch(mode=0o600)
    Path(key_file).write_bytes(key_bytes)
    Path(cert_file).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return load_key_pair(cert_file, key_file, passphrase)
