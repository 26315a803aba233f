"""Letters as HTML: Jinja2 templates following *tata naskah dinas* (Permendagri 1/2023).

``templates/base.html`` is the layout (kop, place and date, Nomor/Sifat/Lampiran/Hal, Yth., body,
signer block, Tembusan, verification footer); ``templates/<series>/<name>.html`` are the bodies.
The HTML is self-contained (logo and QR code as data URIs), so the manager's preview, the committed
expected output and the PDF all come from the same text.
"""

from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from engine.agency import AgencyProfile

from .content import LetterDraft
from .dates import tanggal

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
PAPER = {"A4": "210mm 297mm", "F4": "215mm 330mm"}


@dataclass(frozen=True)
class Issue:
    """What issuing adds to a draft; ``None`` values show as placeholders in a preview."""

    number: str | None
    issued_on: date
    verify_url: str | None = None
    verify_token: str | None = None
    certificate_issuer: str = ""


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["tanggal"] = tanggal
    env.filters["tanggal_iso"] = lambda text: tanggal(date.fromisoformat(text)) if text else ""
    return env


@cache
def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG data URI (error correction M: survives a worn print)."""
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=2, dark="#000")


def body_template(draft: LetterDraft) -> str:
    """The draft's body template, or its series' general one when the agency has none for it."""
    names = set(environment().list_templates())
    return draft.template if draft.template in names else f"{draft.series}/umum.html"


def render_html(profile: AgencyProfile, draft: LetterDraft, issue: Issue) -> str:
    """The whole letter as one HTML document."""
    series = profile.series[draft.series]
    return (
        environment()
        .get_template(body_template(draft))
        .render(
            agency=profile,
            series=series,
            signer=profile.signers[series.signer],
            draft=draft,
            case=draft.case,
            applicant=draft.case.applicant,
            facts=draft.facts,
            issue=issue,
            page_size=PAPER[profile.paper],
            logo_uri=_data_uri(profile.logo_file) if profile.logo_file else None,
            qr_uri=qr_data_uri(issue.verify_url) if issue.verify_url else None,
        )
    )
