"""Browser libraries served from ``web/node_modules`` (installed by ``npm ci``): no CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, send_from_directory

from . import bp

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
# Only the built files of the packages we use are reachable.
PACKAGES = {
    "htmx.org": "htmx.org/dist",
    "bpmn-js": "bpmn-js/dist",
    "properties-panel": "@bpmn-io/properties-panel/dist",
    "dmn-js": "dmn-js/dist",
    "browser-image-compression": "browser-image-compression/dist",
}


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Any:
    if package not in PACKAGES:
        abort(404)
    return send_from_directory(NODE_MODULES / PACKAGES[package], filename, max_age=7 * 24 * 3600)
