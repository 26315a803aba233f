"""Security headers on every kind of response, and templates a strict CSP can serve: no inline
script, no inline style (web/security.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from config import BASE_DIR

from .conftest import app_on
from .test_staff_pages import login, new_case

TEMPLATES = BASE_DIR / "web" / "templates"
# rendered to PDF by WeasyPrint (web/audit/exports.py), never served to a browser as HTML
PDF_ONLY = {"audit/summary_pdf.html"}


def assert_secure(answer: Any, what: str) -> None:
    csp = answer.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    if directives.get("default-src") == ["'none'"] and "sandbox" in directives:  # a download's own policy
        assert directives.get("frame-ancestors") == ["'none'"], (what, csp)
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", what
        return
    assert directives.get("script-src") == ["'self'"], (what, csp)
    assert directives.get("style-src") == ["'self'"], (what, csp)
    assert directives.get("object-src") == ["'none'"], (what, csp)
    assert directives.get("base-uri") == ["'self'"], (what, csp)
    assert directives.get("frame-ancestors") == ["'none'"], (what, csp)
    assert directives.get("form-action") == ["'self'"], (what, csp)
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, (what, csp)
    assert answer.headers.get("X-Content-Type-Options") == "nosniff", what
    assert answer.headers.get("Referrer-Policy") == "same-origin", what
    assert answer.headers.get("X-Frame-Options") == "DENY", what


def test_every_kind_of_response_carries_the_headers(app: Flask, client: Any) -> None:
    reference = new_case(client)
    responses = {
        "public page": client.get("/"),
        "public form": client.get("/apply"),
        "JSON": client.get("/api/v1/openapi.json"),
        "JSON error": client.get("/api/v1/cases/NOPE"),
        "static file": client.get("/static/public.css"),
        "HTML 404": client.get("/no-such-page"),
        "HTML 405": client.delete("/"),
    }
    login(client, "supervisor")
    responses["staff page"] = client.get("/inbox")
    responses["file download (BPMN)"] = client.get(f"/cases/{reference}/diagram.bpmn")
    responses["redirect"] = client.get("/login")
    for what, answer in responses.items():
        answer.close()  # file responses hold their file open until closed
        assert answer.status_code < 500, (what, answer.status_code)
        assert_secure(answer, what)
    assert responses["HTML 404"].status_code == 404 and responses["HTML 405"].status_code == 405
    assert responses["file download (BPMN)"].status_code == 200
    assert responses["file download (BPMN)"].mimetype.endswith("xml")
    assert "sandbox" in responses["file download (BPMN)"].headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in responses["public page"].headers  # not in development


def test_a_server_error_page_carries_the_headers(tmp_path: Path) -> None:
    with app_on(tmp_path, PROPAGATE_EXCEPTIONS=False) as app:

        @app.get("/boom-for-test")
        def _boom() -> Any:
            raise RuntimeError("boom")

        answer = app.test_client().get("/boom-for-test")
        assert answer.status_code == 500
        assert "Terjadi kesalahan pada server" in answer.get_data(as_text=True)
        assert_secure(answer, "HTML 500")
        answer = app.test_client().get("/boom-for-test", headers={"Accept": "application/json"})
        assert answer.status_code == 500 and answer.is_json
        assert_secure(answer, "JSON 500")


def test_hsts_only_in_production_over_https(tmp_path: Path) -> None:
    key = "k" * 48
    with app_on(tmp_path, ENV_NAME="production", SECRET_KEY=key, TESTING=False) as app:
        client = app.test_client()
        secure = client.get("/", base_url="https://layanan.example")
        assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert_secure(secure, "production page")
        plain = client.get("/")
        assert plain.status_code == 200  # no redirect loop behind a plain-HTTP proxy hop
        assert "Strict-Transport-Security" not in plain.headers


def _templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*.html") if p.relative_to(TEMPLATES).as_posix() not in PDF_ONLY)


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)
JS_URL = re.compile(r"(href|src|action)\s*=\s*[\"']\s*javascript:", re.I)


@pytest.mark.parametrize("path", _templates(), ids=lambda p: p.relative_to(TEMPLATES).as_posix())
def test_templates_have_no_inline_script_or_style(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    for pattern, what in (
        (INLINE_SCRIPT, "inline <script> (use a file under web/static, or a type=application/json data block)"),
        (INLINE_STYLE, "inline style (use a class in the stylesheet)"),
        (INLINE_HANDLER, "inline event handler"),
        (JS_URL, "javascript: URL"),
    ):
        found = pattern.search(source)
        assert not found, f"{path.name}: {what}: {found.group(0) if found else ''}"


def test_the_scanner_catches_what_it_should() -> None:
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">x()</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/a.js" defer></script>')
    assert not INLINE_SCRIPT.search('<script type="application/json" id="d">{}</script>')
    assert INLINE_STYLE.search('<p style="color:red">') and INLINE_STYLE.search("<style>p{}</style>")
    assert INLINE_HANDLER.search('<button onclick="go()">') and not INLINE_HANDLER.search('<p data-on="x">')
    assert JS_URL.search('<a href="javascript:void(0)">')
