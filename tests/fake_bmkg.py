"""A local stand-in for BMKG's forecast API, for tests and for trying the pages offline.

It serves the answers recorded in ``tests/data/bmkg/<adm4>.json`` (BMKG's own format), moved in
time so their first day is today, and can be told to be slow or to answer malformed JSON. Every
request is counted, so tests can see how often the app asked.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

RECORDED = Path(__file__).resolve().parent / "data" / "bmkg"
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}Z?$")


def shifted(value: Any, days: int) -> Any:
    """The recorded answer with every timestamp moved by ``days``."""
    if isinstance(value, dict):
        return {k: shifted(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [shifted(v, days) for v in value]
    if isinstance(value, str) and _STAMP.match(value):
        zulu = value.endswith("Z")
        moment = datetime.fromisoformat(value.rstrip("Z").replace(" ", "T")) + timedelta(days=days)
        text = moment.strftime("%Y-%m-%dT%H:%M:%S" if "T" in value else "%Y-%m-%d %H:%M:%S")
        return text + ("Z" if zulu else "")
    return value


def recorded(adm4: str, today: date | None = None) -> dict[str, Any] | None:
    path = RECORDED / f"{adm4}.json"
    if not path.exists():
        # another desa of a recorded kecamatan: its neighbour's answer, labelled as this desa
        neighbours = sorted(RECORDED.glob(f"{adm4[:8]}.*.json"))
        if not neighbours or not re.match(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$", adm4):
            return None
        path = neighbours[0]
    answer = json.loads(path.read_text(encoding="utf-8"))
    for place in (answer["lokasi"], *(block.get("lokasi") or {} for block in answer["data"])):
        if place:
            place["adm4"] = adm4
    first = answer["data"][0]["cuaca"][0][0]["local_datetime"][:10]
    local_today = datetime.now(ZoneInfo(answer["lokasi"]["timezone"])).date()  # the desa's "today"
    return shifted(answer, ((today or local_today) - date.fromisoformat(first)).days)


class FakeBMKG:
    """``with FakeBMKG() as bmkg: bmkg.url …``; ``bmkg.mode`` is ok | slow | malformed | error."""

    def __init__(self, mode: str = "ok", delay: float = 0.0) -> None:
        self.mode, self.delay = mode, delay
        self.requests: list[str] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                query = parse_qs(urlparse(self.path).query)
                adm4 = (query.get("adm4") or [""])[0]
                with fake._lock:
                    fake.requests.append(adm4)
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.mode == "malformed":
                    return self._send(200, b'{"lokasi": {"adm4": "' + adm4.encode() + b'"}, "data": [{"cuaca": [[{')
                if fake.mode == "error":
                    return self._send(503, b'{"message": "Service Unavailable"}')
                answer = recorded(adm4)
                if answer is None:
                    return self._send(404, b'{"message": "Data tidak ditemukan"}')
                return self._send(200, json.dumps(answer).encode())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the slow case)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/publik/prakiraan-cuaca"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeBMKG:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def closed_port_url() -> str:
    """The URL of a server that is down: a port nothing listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/publik/prakiraan-cuaca"
