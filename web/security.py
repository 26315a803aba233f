"""Security headers on every response (Flask-Talisman): a Content-Security-Policy that allows no
inline script or style, no framing, nosniff, a same-origin referrer, and HSTS in production."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from flask import Flask, Response, g, request

from .extensions import talisman

# Every script and stylesheet is a file of this origin; templates carry no inline <script> or
# style="" (tests/test_security_headers.py scans them). Data for scripts travels in
# <script type="application/json"> blocks, which the browser never executes.
CSP: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    # data: for the bpmn.io logo bpmn-js draws as an <img src="data:image/svg+xml,...">;
    # blob: for the preview of a photo shrunk in the browser before upload
    "img-src": "'self' data: blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
REFERRER_POLICY = "same-origin"  # tracking and case URLs never leave the site in a Referer


# The pages that load the BPMN modeler bundle (web/assets → web/static/build/modeler.js).
MODELER_PAGES = {"admin.editor", "admin.version"}
_STYLE_LITERAL = re.compile(r'style=\\?"([^"\\<>{}]+)\\?"')


def style_attribute_hashes(bundle: Path) -> list[str]:
    """CSP hashes of the constant ``style="..."`` attributes the bundle writes through innerHTML.

    bpmn-js-properties-panel builds its containers with ``domify('<div style="height: 100%" ...>')``
    and bpmn-js draws the align/distribute menu icons as SVG strings with style attributes; a CSP
    without inline styles drops them (the panel loses its height, the icons their strokes) and
    reports a violation each time. ``'unsafe-hashes'`` with these hashes allows exactly those
    constant values, on the modeler pages only; any other inline style stays refused.
    """
    try:
        text = bundle.read_text(encoding="utf-8")
    except OSError:
        return []
    values = sorted(set(_STYLE_LITERAL.findall(text)))
    return [f"'sha256-{base64.b64encode(hashlib.sha256(v.encode()).digest()).decode()}'" for v in values]


def _allow_modeler_styles(app: Flask) -> None:
    cache: dict[str, tuple[float, str]] = {}
    bundle = Path(str(app.static_folder)) / "build" / "modeler.js"

    def directive() -> str:
        try:
            mtime = bundle.stat().st_mtime
        except OSError:
            return ""
        if cache.get("v", (None, ""))[0] != mtime:
            hashes = style_attribute_hashes(bundle)
            cache["v"] = (mtime, f"style-src-attr 'unsafe-hashes' {' '.join(hashes)}" if hashes else "")
        return cache["v"][1]

    # registered before Talisman's own hook, so it runs after it (Flask runs them in reverse)
    @app.after_request
    def _page_csp(response: Response) -> Response:
        own = g.pop("view_csp", None)
        if own:  # a view's own, stricter policy (a download: "default-src 'none'; sandbox") wins
            if "frame-ancestors" not in own:
                own += "; frame-ancestors 'none'"
            response.headers["Content-Security-Policy"] = own
            return response
        policy = response.headers.get("Content-Security-Policy")
        extra = directive() if request.endpoint in MODELER_PAGES and policy else ""
        if extra:
            response.headers["Content-Security-Policy"] = f"{policy}; {extra}"
        return response


def init_app(app: Flask) -> None:
    production = app.config.get("ENV_NAME") == "production"
    _allow_modeler_styles(app)
    talisman.init_app(
        app,
        # TLS ends at the reverse proxy; redirecting here would loop behind a plain-HTTP hop
        force_https=False,
        strict_transport_security=production,
        strict_transport_security_max_age=365 * 24 * 3600,
        frame_options="DENY",
        content_security_policy=CSP,
        referrer_policy=REFERRER_POLICY,
        # leave the cookie settings to config.py (and to the production guard in create_app)
        session_cookie_secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
        permissions_policy={"camera": "(self)", "geolocation": "(self)", "microphone": "()"},
    )

    # registered after Talisman's hook, so it runs before it and sees the view's own header
    @app.after_request
    def _remember_view_csp(response: Response) -> Response:
        own = response.headers.get("Content-Security-Policy")
        if own:
            g.view_csp = own
        return response
