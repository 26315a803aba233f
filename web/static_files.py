"""Static files a slow phone downloads once: URLs carry a hash of the file's content
(``static_url('public.css')`` → ``/static/public.css?v=3f2a…``), and a response to such a URL may
be kept for a year (``immutable``); a changed file gets a new URL. Also compression of responses
(Flask-Compress) and the favicon at ``/favicon.ico``.

Hand-written because Flask has no content-hash helper of its own and the asset pipelines that do
(Flask-Assets, webassets) would rebuild files we serve as they are; this only names them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, Response, request, send_from_directory, url_for
from werkzeug.security import safe_join

from .extensions import compress

IMMUTABLE = "public, max-age=31536000, immutable"
_hashes: dict[str, tuple[float, int, str]] = {}


def fingerprint(path: Path) -> str | None:
    """A short hash of the file's content (recomputed only when its mtime or size changes)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = str(path)
    cached = _hashes.get(key)
    if cached and cached[:2] == (stat.st_mtime, stat.st_size):
        return cached[2]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    _hashes[key] = (stat.st_mtime, stat.st_size, digest)
    return digest


def _static_path(app: Flask, filename: str) -> Path | None:
    joined = safe_join(str(app.static_folder), filename)
    return Path(joined) if joined else None


def _vendor_path(package: str, filename: str) -> Path | None:
    from .staff.assets import NODE_MODULES, PACKAGES

    if package not in PACKAGES:
        return None
    joined = safe_join(str(NODE_MODULES / PACKAGES[package]), filename)
    return Path(joined) if joined else None


def init_app(app: Flask) -> None:
    compress.init_app(app)

    def static_url(filename: str) -> str:
        path = _static_path(app, filename)
        version = fingerprint(path) if path else None
        return url_for("static", filename=filename, v=version) if version else url_for("static", filename=filename)

    def vendor_url(package: str, filename: str) -> str:
        path = _vendor_path(package, filename)
        version = fingerprint(path) if path else None
        return url_for("staff.vendor", package=package, filename=filename, **({"v": version} if version else {}))

    app.jinja_env.globals.update(static_url=static_url, vendor_url=vendor_url)

    @app.get("/favicon.ico")
    def favicon() -> Any:
        return send_from_directory(Path(str(app.static_folder)) / "icons", "favicon.ico", max_age=7 * 24 * 3600)

    # registered after Flask-Compress, so it runs before it (Flask runs them in reverse)
    @app.after_request
    def _cache_fingerprinted(response: Response) -> Response:
        if request.endpoint not in ("static", "staff.vendor") or not request.view_args:
            return response
        if response.status_code in (200, 206) and response.is_streamed:
            # read the file now and close it here, not when the server closes the response: it can
            # be compressed, and a browser that drops the connection midway (a navigation
            # cancelling an icon) or a server stopping mid-request leaves no open file behind
            response.direct_passthrough = False
            body = b"".join(response.iter_encoded())
            close = getattr(response.response, "close", None)
            if close is not None:
                close()
            response.set_data(body)
        version = request.args.get("v")
        if not version or response.status_code not in (200, 304):
            return response
        args = request.view_args
        if request.endpoint == "static":
            path = _static_path(app, args.get("filename", ""))
        elif request.endpoint == "staff.vendor":
            path = _vendor_path(args.get("package", ""), args.get("filename", ""))
        else:
            return response
        # only the current content is immutable: an old hash gets today's file, revalidated
        if path is not None and fingerprint(path) == version:
            response.headers["Cache-Control"] = IMMUTABLE
        return response
