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


def test_the_documents_identity_rules_are_the_servers(client: Any) -> None:
    """The NIK, KK, phone and birth-date patterns accept exactly what the server accepts."""
    import random
    import re
    from datetime import date

    from engine import validation

    spec = client.get("/api/v1/openapi.json").get_json()
    applicant = spec["components"]["schemas"]["Applicant"]["properties"]
    nik, kk, phone = (re.compile(applicant[f]["pattern"]) for f in ("nik", "kk_number", "phone"))
    chance = random.Random(7)

    def server_takes(check: Any, value: str) -> bool:
        try:
            check(value)
        except ValueError:
            return False
        return True

    candidates = ["6311065403520001", "6311063213520001", "6311062902000001", "6311062902010001", "1100000000000000"]
    for _ in range(3000):
        day = chance.choice([chance.randint(0, 72), 29, 30, 31, 69, 70, 71])
        candidates.append(
            chance.choice(["63", "11", "99", "00", "31"])
            + f"{chance.randint(0, 9999):04d}{day:02d}{chance.randint(0, 13):02d}{chance.randint(0, 99):02d}"
            + chance.choice(["0000", "0001", f"{chance.randint(0, 9999):04d}"])
        )
    for value in candidates:
        assert bool(nik.fullmatch(value)) == server_takes(validation.parse_nik, value), value
        assert bool(kk.fullmatch(value)) == server_takes(validation.check_kk, value), value
    phones = ["081234567890", "+62 812-3456-7890", "(0812) 3456 7890", "62812345", "0712345678", "08123", "+0812345678"]
    phones += ["".join(chance.choice("0123456789+ -().8") for _ in range(chance.randint(5, 20))) for _ in range(3000)]
    for value in phones:
        assert bool(phone.fullmatch(value)) == server_takes(validation.normalize_phone, value), value
    birth = re.compile(applicant["birth_date"]["pattern"])
    assert birth.fullmatch("1952-03-14") and not birth.fullmatch("1952-02-30") and not birth.fullmatch(str(date.max))
    assert (
        spec["paths"]["/api/v1/applications/{reference}/documents"]["post"]["requestBody"]["content"][
            "multipart/form-data"
        ]["schema"]["properties"]["tracking_code"]["type"]
        == "string"
    )
