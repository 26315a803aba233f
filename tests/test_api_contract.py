"""The API against its own OpenAPI document, by a fuzzer (schemathesis, every check).

``schemathesis run`` reads ``/api/v1/openapi.json`` from the app served on a real HTTP server
(in this process, on the test database) and sends what the document allows and what it does
not: examples, boundary values of every constraint, random data, and a stateful phase that
follows the document's links (a created application → its tracking; the task list → a task,
its claim, release and completion; a case → its history). Each role's operations get a demo
token of that role (``tests/data/schemathesis.toml``). Bounded: a few examples per operation,
well under a minute and a half on this machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CONFIG = Path(__file__).resolve().parent / "data" / "schemathesis.toml"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture
def base_url(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def test_the_api_keeps_its_openapi_contract_under_fuzzing(base_url: str, token: Any, tmp_path: Path) -> None:
    env = {**os.environ, "CONTRACT_BASE_URL": base_url}
    for role in ("operator", "admin", "auditor", "manager"):
        env[f"TOKEN_{role.upper()}"] = token(role)["Authorization"].removeprefix("Bearer ")
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            f"{base_url}/api/v1/openapi.json",
            "--checks",
            "all",
            "--report-dir",
            str(tmp_path),
        ],
        env=env,
        cwd=tmp_path,  # its cache directory goes there, not into the checkout
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert "Stateful" in run.stdout and "Coverage" in run.stdout
