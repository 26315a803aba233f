"""Fingerprinted static URLs with a year's cache, compressed responses, and the icons every page
links (web/static_files.py)."""

from __future__ import annotations

import re
from typing import Any

from PIL import Image

from config import BASE_DIR

ACCEPT = {"Accept-Encoding": "gzip, deflate, br, zstd"}


def linked(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/(?:static|vendor)/[^"#]+)', html)


def test_pages_link_fingerprinted_assets_kept_for_a_year(client: Any) -> None:
    urls = linked(client.get("/apply").get_data(as_text=True))
    assert any("public.css?v=" in u for u in urls) and any("public.js?v=" in u for u in urls)
    for url in urls:
        assert "?v=" in url, url
        answer = client.get(url)
        answer.close()
        assert answer.status_code == 200, url
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable", url


def test_an_outdated_fingerprint_is_not_cached_forever(client: Any) -> None:
    answer = client.get("/static/public.css?v=000000000000")
    answer.close()
    assert answer.status_code == 200 and "immutable" not in answer.headers.get("Cache-Control", "")


def test_the_fingerprint_follows_the_content(client: Any, tmp_path: Any) -> None:
    from web.static_files import fingerprint

    path = tmp_path / "a.css"
    path.write_text("a{}")
    first = fingerprint(path)
    path.write_text("b{}  ")
    assert fingerprint(path) != first and fingerprint(tmp_path / "missing.css") is None


def test_html_json_css_and_js_are_compressed(client: Any) -> None:
    html = client.get("/apply", headers=ACCEPT)
    assert html.headers.get("Content-Encoding") in {"zstd", "br", "gzip"}
    assert "Accept-Encoding" in html.headers["Vary"]
    assert client.get("/api/v1/openapi.json", headers=ACCEPT).headers.get("Content-Encoding")
    for url in linked(client.get("/apply").get_data(as_text=True)):
        if url.split("?")[0].endswith((".css", ".js")):
            answer = client.get(url, headers={"Accept-Encoding": "gzip"})
            assert answer.headers.get("Content-Encoding") == "gzip", url
            answer.close()
    plain = client.get("/apply", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and b"<html" in plain.data


def test_every_page_links_the_icons_and_they_exist(client: Any) -> None:
    for path in ("/", "/apply", "/login", "/no-such-page"):
        html = client.get(path).get_data(as_text=True)
        for rel in ('rel="icon"', 'rel="apple-touch-icon"'):
            assert rel in html, (path, rel)
    favicon = client.get("/favicon.ico")
    favicon.close()
    assert favicon.status_code == 200 and favicon.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
    icons = BASE_DIR / "web" / "static" / "icons"
    for name, size in (("icon-192.png", 192), ("icon-512.png", 512), ("apple-touch-icon.png", 180)):
        with Image.open(icons / name) as image:
            assert image.size == (size, size) and image.format == "PNG"
    assert (icons / "icon.svg").read_text().startswith("<svg")
