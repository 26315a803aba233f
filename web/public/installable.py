"""The public pages as an installable web app: manifest, service worker, offline page, poster.

The service worker (``web/static/js/sw.js``) is served from ``/sw.js`` so its scope covers the
public pages at the root; it keeps only the public shell (below) and never touches staff pages,
the API or any page with personal data (it handles a fixed list of addresses only).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import segno
from flask import current_app, make_response, render_template, url_for
from markupsafe import Markup

from . import bp

THEME = "#0b5d3b"
# Pages opened from the cache when the network fails; the forms with a one-time form token
# (apply, complaint) are not among them: offline they show the offline page, and their drafts
# stay in the browser (web/static/js/drafts.js).
SHELL_PAGES = ("public.home", "public.track_form", "public.recover_form", "public.offline")
SHELL_STATIC = (
    "public.css",
    "public.js",
    "icons.svg",
    "js/app.js",
    "js/drafts.js",
    "icons/icon-192.png",
    "icons/icon.svg",
)
# Public pages the worker answers with the offline page when they cannot be fetched.
OFFLINE_FALLBACK = ("/", "/apply", "/complaint", "/track", "/verify", "/cuaca", "/pendamping", "/kode-hilang")


@bp.get("/manifest.webmanifest")
def manifest() -> Any:
    agency = current_app.config["AGENCY"]
    body = {
        "name": f"Layar Sibalang — {agency.short_name}",
        "short_name": "Layar Sibalang",
        "description": "Ajukan bantuan sosial, sampaikan aduan, dan pantau perkembangannya.",
        "lang": "id",
        "dir": "ltr",
        "id": url_for("public.home"),
        "start_url": url_for("public.home"),
        "scope": url_for("public.home"),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "categories": ["government", "social"],
        "icons": [
            {
                "src": _static(f"icons/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any",
            }
            for size in (192, 512)
        ],
    }
    response = make_response(json.dumps(body, ensure_ascii=False, indent=1))
    response.headers["Content-Type"] = "application/manifest+json; charset=utf-8"
    return response


def _static(filename: str) -> str:
    """The file's address as the pages name it (with its content hash, web/static_files.py)."""
    return str(current_app.jinja_env.globals["static_url"](filename))


def _shell() -> list[str]:
    return [url_for(endpoint) for endpoint in SHELL_PAGES] + [_static(name) for name in SHELL_STATIC]


@bp.get("/sw.js")
def service_worker() -> Any:
    """The worker's code with this release's shell list (its hash names the cache, so a new
    release replaces the old cache)."""
    shell = _shell()
    with current_app.open_resource("static/js/sw.js") as fh:
        code = fh.read().decode("utf-8")
    config = {"shell": shell, "offline": url_for("public.offline"), "fallback": list(OFFLINE_FALLBACK)}
    version = hashlib.sha256((code + json.dumps(config)).encode()).hexdigest()[:12]
    config["version"] = version
    response = make_response(f"self.SIBALANG = {json.dumps(config)};\n{code}")
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline")
def offline() -> Any:
    return render_template("public/offline.html")


@bp.get("/poster")
def poster() -> Any:
    """A printable A4 poster with a QR code to the service (the seed's "scan barcode" step)."""
    address = current_app.config["PUBLIC_BASE_URL"] + url_for("public.home")
    qr = segno.make(address, error="m")
    svg = qr.svg_inline(scale=10, dark="#000", omitsize=True, title="QR: " + address)
    return render_template("public/poster.html", address=address, qr=Markup(svg))  # noqa: S704 (segno's own SVG)
