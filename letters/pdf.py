"""Letters as signed PDF/A: WeasyPrint renders, pyHanko signs (PAdES baseline B, SHA-256).

The signature is invisible (the QR code and footer are the visible mark); it covers the whole
file, so any change to the bytes breaks it. :class:`KeyPairSigner` hands pyHanko the key already
in memory (pyHanko's ``SimpleSigner`` re-parses the PEM key on every signature, ~80 ms).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SignedDigestAlgorithm
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from .signing import KeyPair

PDF_VARIANT = "pdf/a-2b"  # archival: fonts embedded, no external content
SIGNATURE_FIELD = "TandaTanganElektronik"
# Room for the CMS signature in the file; pyHanko otherwise signs twice to measure it.
SIGNATURE_BYTES = 16384


_fonts = threading.local()


def _font_config() -> FontConfiguration:
    """One font configuration per thread: fontconfig is asked for the fonts once, not per letter."""
    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


def render_pdf(html: str) -> bytes:
    """The PDF/A of a letter's HTML (self-contained: no network, no files)."""
    # data: URIs only (logo, QR code): a letter never fetches a file or a URL, whatever its text says
    fetcher = URLFetcher(allowed_protocols=("data",), fail_on_errors=False)
    document = HTML(string=html, base_url=None, url_fetcher=fetcher)
    return document.write_pdf(pdf_variant=PDF_VARIANT, font_config=_font_config()) or b""


class KeyPairSigner(signers.Signer):
    """A pyHanko signer over our loaded :class:`KeyPair` (RSA PKCS#1 v1.5 or ECDSA, SHA-256)."""

    def __init__(self, pair: KeyPair) -> None:
        certificate = asn1_x509.Certificate.load(pair.certificate.public_bytes(Encoding.DER))
        algorithm = "sha256_rsa" if isinstance(pair.private_key, rsa.RSAPrivateKey) else "sha256_ecdsa"
        super().__init__(
            signing_cert=certificate,
            cert_registry=SimpleCertificateStore.from_certs([certificate]),
            signature_mechanism=SignedDigestAlgorithm({"algorithm": algorithm}),
        )
        self._pair = pair

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if digest_algorithm != "sha256":
            raise ValueError(f"only SHA-256 signatures are made here, not {digest_algorithm}")
        return self._pair.sign(data)


@dataclass(frozen=True)
class SignatureCheck:
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the signature is the certificate's
    trusted: bool  # the certificate chains to a trusted root
    covers_whole_file: bool
    signer: str

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.covers_whole_file


def sign_pdf(pdf: bytes, signer: KeyPairSigner, *, reason: str, location: str, contact: str = "") -> bytes:
    """``pdf`` with a PAdES signature of the agency's certificate appended (incremental update)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        contact_info=contact or None,
    )
    out = signers.sign_pdf(writer, meta, signer=signer, bytes_reserved=SIGNATURE_BYTES)
    return out.getvalue()


def check_signature(pdf: bytes, trusted: list[KeyPair]) -> SignatureCheck | None:
    """Validate the letter's signature against ``trusted`` certificates; None if it has none."""
    roots = [asn1_x509.Certificate.load(p.certificate.public_bytes(Encoding.DER)) for p in trusted]
    reader = PdfFileReader(io.BytesIO(pdf))
    if not reader.embedded_signatures:
        return None
    embedded = reader.embedded_signatures[0]
    status = validate_pdf_signature(embedded, ValidationContext(trust_roots=roots))
    return SignatureCheck(
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=status.signing_cert.subject.human_friendly,
    )
