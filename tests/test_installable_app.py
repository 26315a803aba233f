"""The public pages as an installable app: manifest, service worker, offline page, QR poster."""

from __future__ import annotations

import json
import re
from typing import Any

import segno

from config import BASE_DIR


def test_the_manifest_is_valid_json_with_what_an_install_needs(client: Any) -> None:
    answer = client.get("/manifest.webmanifest")
    assert answer.status_code == 200 and answer.mimetype == "application/manifest+json"
    manifest = json.loads(answer.get_data(as_text=True))
    for field in ("name", "short_name", "start_url", "scope", "display", "icons", "lang", "theme_color"):
        assert manifest[field], field
    assert manifest["lang"] == "id" and manifest["display"] == "standalone" and manifest["scope"] == "/"
    sizes = {icon["sizes"]: icon for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= set(sizes)
    for icon in sizes.values():
        with client.get(icon["src"]) as image:
            assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
            width = int.from_bytes(image.data[16:20], "big")
        assert f"{width}x{width}" == icon["sizes"]


def test_every_public_page_links_the_manifest_and_the_worker_script(client: Any) -> None:
    for path in ("/", "/apply", "/complaint", "/track", "/kode-hilang", "/poster", "/offline"):
        page = client.get(path).get_data(as_text=True)
        assert 'rel="manifest" href="/manifest.webmanifest"' in page, path
        assert re.search(r'src="/static/js/app\.js(\?v=[0-9a-f]+)?" data-sw="/sw\.js"', page), path
    assert "manifest" not in client.get("/login").get_data(as_text=True)  # staff pages stay plain


def test_the_worker_keeps_only_the_public_shell(client: Any) -> None:
    answer = client.get("/sw.js")
    assert answer.status_code == 200 and answer.mimetype == "text/javascript"
    assert answer.headers["Cache-Control"] == "no-cache"
    code = answer.get_data(as_text=True)
    settings = json.loads(re.match(r"self\.SIBALANG = (\{.*?\});\n", code).group(1))  # type: ignore[union-attr]
    shell = settings["shell"]
    paths = {url.partition("?")[0] for url in shell}
    assert {"/", "/track", "/offline", "/static/public.css", "/static/js/app.js", "/static/icons.svg"} <= paths
    home = client.get("/").get_data(as_text=True)
    for url in shell:  # the very addresses the pages use (with their content hash)
        if url.startswith(("/static/public.css", "/static/js/app")):
            assert url.replace("&", "&amp;") in home, url
    for url in shell:
        with client.get(url) as kept:
            assert kept.status_code == 200, url
    # never a staff page, the API, a form with a one-time token, a receipt or a tracking status
    for prefix in ("/inbox", "/tasks", "/cases", "/admin", "/audit", "/api", "/terkirim", "/track/", "/apply"):
        assert not any(url.startswith(prefix) for url in shell), prefix
    assert settings["offline"] == "/offline" and "/apply" in settings["fallback"]
    assert not any(path.startswith(("/inbox", "/api", "/terkirim")) for path in settings["fallback"])
    assert code.count(settings["version"]) == 1 and len(settings["version"]) == 12


def test_the_poster_prints_a_qr_code_to_the_public_address(client: Any, app: Any) -> None:
    page = client.get("/poster").get_data(as_text=True)
    address = app.config["PUBLIC_BASE_URL"] + "/"
    assert address in page and "<svg" in page
    expected = segno.make(address, error="m").svg_inline(scale=10, dark="#000", omitsize=True, title="QR: " + address)
    path = re.search(r'<path[^>]* d="([^"]+)"', expected).group(1)  # type: ignore[union-attr]
    assert path in page  # the very modules of the address's QR code
    css = (BASE_DIR / "web" / "static" / "public.css").read_text()
    assert "size: A4" in css
