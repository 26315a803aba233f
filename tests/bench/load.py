"""Load test: gunicorn -w 4 on PostgreSQL, N clients driving whole cases over real HTTP.

    .venv/bin/python tests/bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1/db \\
        [--clients 16] [--seconds 30] [--workers 4] [--port 5101] [--without-letters]
        (or LOAD_DATABASE_URL, LOAD_PORT)

The database is emptied and seeded (procedures, demo users). The server runs with production
settings and a demo signing key, so the step that issues the case's letter renders and signs a
real PDF (~180 ms of CPU, more than all the other requests of a case together). Each client
keeps one HTTP/1.1 connection and, until the time is up, submits an application (with an
``Idempotency-Key``), then walks its eight steps: list the task (``GET /tasks?q=``) and complete
it, as the demo users. After a warm-up (``--warmup`` seconds: each worker's first statements and
fonts), prints the machine's load and the CPU time the server's processes used (per request),
cases/s, completions/s (those issuing a letter and the others), p50/p95/p99 per endpoint and per
step, and every error, then checks in the database that every acknowledged write is there
exactly once: each 201 application is one case (and one idempotency record), each 200
completion one completed task row with one ``task_completed`` event. Exit status 1 if that
check fails. Not part of ``make test``.

``--without-letters`` first redeploys the procedure without its ``issuesLetter`` properties (a
new version of the same diagram, as ``bench_engine.py`` does for its (b-) and (f-)): the figures
issue 9 compared with were measured before cases issued letters.

Reading the figures: the driver, gunicorn and PostgreSQL share the machine's CPUs. Throughput is
bounded by (CPUs the server got) ÷ (server CPU per request); "of the CPUs" says how much it got.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.test_api import HAPPY_BY_USER  # noqa: E402
from web.demo import SAMPLE_DATA, sample_application  # noqa: E402

PASSWORD = "rahasia-uji-123"  # tests.conftest.seed's


def prepare(url: str, tmp: Path, letters: bool = True) -> set[str]:
    """An empty schema on ``url`` with the procedures deployed (``letters=False``: then again
    without their letters) and the demo users; returns the steps of the happy path whose
    completion issues a signed letter."""
    from datetime import UTC, datetime

    from engine.definitions import latest_definition, load_definition
    from tests.bench.bench_engine import deploy_without_letters
    from tests.conftest import make_config, seed
    from web import create_app
    from web.extensions import db

    app = create_app(make_config(tmp, SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        seed(app)
        if not letters:
            deploy_without_letters(db.session, datetime.now(UTC))
        definition = latest_definition(db.session, "rujukan")
        assert definition is not None
        tasks = load_definition(definition).tasks
        db.session.remove()
        db.engine.dispose()
    return {step for _, step in HAPPY_BY_USER if step in tasks and tasks[step].letter}


def start_server(url: str, port: int, workers: int, tmp: Path) -> subprocess.Popen[bytes]:
    from tests.conftest import signing_files

    env = {
        **os.environ,
        **{name: str(path) for name, path in signing_files().items()},  # the cases issue signed letters
        "SIBALANG_ENV": "production",  # the settings a deployment runs with (the demo password refused)
        "DATABASE_URL": url,
        "SECRET_KEY": "load-test-secret-" + "x" * 40,
        "SIBALANG_INSTANCE_DIR": str(tmp),
        "RATELIMIT_ENABLED": "0",  # one client address sends every application
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "web:create_app()",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not answer within 60 s")


class Client:
    """One keep-alive connection; every request timed under its endpoint's name."""

    def __init__(self, port: int, stats: Stats) -> None:
        self.port, self.stats = port, stats
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, name: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        head = {"Content-Type": "application/json", **(headers or {})} if data else dict(headers or {})
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=head)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.stats.error(name, type(exc).__name__)
            return None, None
        self.stats.timing(name, time.perf_counter() - t0)
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            answer = None
        return response.status, answer


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.applications: dict[str, str] = {}  # acknowledged: idempotency key → reference
        self.completions: list[str] = []  # acknowledged task ids
        self.completed_steps: Counter[str] = Counter()
        self.finished = 0

    def timing(self, name: str, seconds: float) -> None:
        with self.lock:
            self.times[name].append(seconds)

    def error(self, name: str, what: Any) -> None:
        with self.lock:
            self.errors[f"{name}: {what}"] += 1


def drive(port: int, tokens: dict[str, dict[str, str]], stats: Stats, deadline: float, index: int) -> None:
    client = Client(port, stats)
    n = 0
    while time.monotonic() < deadline:
        key = str(uuid.uuid4())
        status, answer = client.call(
            "POST /applications",
            "POST",
            "/api/v1/applications",
            sample_application((index * 500 + n) % 9000),  # NIK sequence numbers stay 4 digits
            {"Idempotency-Key": key},
        )
        n += 1
        if status != 201:
            if status is not None:
                stats.error("POST /applications", status)
            continue
        reference = answer["reference"]
        with stats.lock:
            stats.applications[key] = reference
        for user, step in HAPPY_BY_USER:
            status, listing = client.call("GET /tasks", "GET", f"/api/v1/tasks?q={reference}", headers=tokens[user])
            if status != 200 or not listing["items"]:
                stats.error("GET /tasks", status if status != 200 else "no task")
                break
            task_id = listing["items"][0]["id"]
            status, _ = client.call(
                f"POST /tasks/{{id}}/complete {step}",
                "POST",
                f"/api/v1/tasks/{task_id}/complete",
                {"data": SAMPLE_DATA[step]},
                tokens[user],
            )
            if status != 200:
                if status is not None:
                    stats.error(f"POST /tasks/{{id}}/complete {step}", status)
                break
            with stats.lock:
                stats.completions.append(task_id)
                stats.completed_steps[step] += 1
        else:
            with stats.lock:
                stats.finished += 1


def run_clients(
    port: int, tokens: dict[str, dict[str, str]], stats: Stats, clients: int, seconds: float, first: int = 0
) -> float:
    """``clients`` threads (numbered from ``first``: their applicants differ) driving cases for
    ``seconds``; the seconds it took."""
    t0 = time.monotonic()
    threads = [
        threading.Thread(target=drive, args=(port, tokens, stats, t0 + seconds, first + i)) for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - t0


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its children (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        pending += [int(child) for child in children]
    return total


def check(url: str, tmp: Path, stats: Stats) -> list[str]:
    """Every acknowledged write is in the database exactly once."""
    from sqlalchemy import func, select

    from engine.models import Case, CaseEvent, HumanTask, IdempotencyRecord
    from tests.conftest import make_config
    from web import create_app
    from web.extensions import db

    problems = []
    app = create_app(make_config(tmp, SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        by_reference = {
            r: n for r, n in db.session.execute(select(Case.reference, func.count()).group_by(Case.reference))
        }
        for key, reference in stats.applications.items():
            if by_reference.get(reference) != 1:
                problems.append(f"application {reference}: {by_reference.get(reference, 0)} cases")
            if db.session.get(IdempotencyRecord, f"applications:{key}") is None:
                problems.append(f"application {reference}: no idempotency record")
        stmt = select(HumanTask.id, HumanTask.state).where(HumanTask.id.in_(stats.completions))
        completed = {str(row[0]): row[1] for row in db.session.execute(stmt).all()}
        events = Counter(
            db.session.scalars(
                select(CaseEvent.task_id).where(
                    CaseEvent.kind == "task_completed", CaseEvent.task_id.in_(stats.completions)
                )
            )
        )
        for task_id in stats.completions:
            if completed.get(task_id) != "completed" or events[task_id] != 1:
                problems.append(f"task {task_id}: state {completed.get(task_id)}, {events[task_id]} completion events")
        db.engine.dispose()
    return problems


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", default=os.environ.get("LOAD_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load before the measured ones")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOAD_PORT", "5101")))
    parser.add_argument("--without-letters", action="store_true", help="the procedure redeployed without letters")
    args = parser.parse_args()
    if not (args.database_url or "").startswith("postgresql"):
        raise SystemExit("give --database-url postgresql+psycopg://… (a database this test may empty)")
    tmp = Path(tempfile.mkdtemp(prefix="sibalang-load-"))
    letter_steps = prepare(args.database_url, tmp, letters=not args.without_letters)
    server = start_server(args.database_url, args.port, args.workers, tmp)
    stats = Stats()
    try:
        setup = Client(args.port, Stats())
        tokens = {}
        for user in {u for u, _ in HAPPY_BY_USER}:
            _, answer = setup.call("setup", "POST", "/api/v1/auth/token", {"username": user, "password": PASSWORD})
            tokens[user] = {"Authorization": f"Bearer {answer['token']}"}
        # warm-up: every worker imports lazily, compiles its statements and loads the letter's fonts
        warm = Stats()
        run_clients(args.port, tokens, warm, args.clients, args.warmup, first=args.clients)
        load_before = os.getloadavg()
        server_cpu = -tree_cpu_seconds(server.pid)
        driver_cpu = time.process_time()
        elapsed = run_clients(args.port, tokens, stats, args.clients, args.seconds)
        driver_cpu = time.process_time() - driver_cpu
        server_cpu += tree_cpu_seconds(server.pid)
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait(timeout=30)
    requests = sum(len(v) for v in stats.times.values())
    print(
        f"\n{args.clients} clients, gunicorn -w {args.workers}, PostgreSQL, {elapsed:.1f} s "
        f"(after {args.warmup:.0f} s of warm-up), {os.cpu_count()} CPUs"
        + (", the procedure without letters" if args.without_letters else "")
    )
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min; includes this test)")
    print(
        f"CPU: server {server_cpu:.1f} s ({server_cpu / max(requests, 1) * 1000:.1f} ms per request; "
        f"{server_cpu / elapsed:.2f} of the CPUs), this driver {driver_cpu:.1f} s (PostgreSQL's not counted)"
    )
    print(f"cases started   {len(stats.applications) / elapsed:8.1f} /s   ({len(stats.applications)})")
    print(f"cases finished  {stats.finished / elapsed:8.1f} /s   ({stats.finished})")
    print(f"completions     {len(stats.completions) / elapsed:8.1f} /s   ({len(stats.completions)})")
    lettered = sum(n for step, n in stats.completed_steps.items() if step in letter_steps)
    others = len(stats.completions) - lettered
    print(
        f"  issuing a letter ({', '.join(sorted(letter_steps)) or 'none'}) {lettered / elapsed:8.1f} /s   ({lettered})"
    )
    print(f"  the other steps        {others / elapsed:8.1f} /s   ({others})")
    print(f"{'endpoint':<44} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    complete = "POST /tasks/{id}/complete"
    groups = {
        complete: [v for name, values in stats.times.items() if name.startswith(complete) for v in values],
        f"{complete} without a letter": [
            v
            for name, values in stats.times.items()
            if name.startswith(complete) and name.rpartition(" ")[2] not in letter_steps
            for v in values
        ],
    }
    rows = [(name, values) for name, values in stats.times.items() if not name.startswith(complete)]
    rows += [(name, values) for name, values in groups.items() if values]
    steps = [f"{complete} {step}" for _, step in HAPPY_BY_USER]
    rows += [(f"  {name.rpartition(' ')[2]}", stats.times[name]) for name in steps if stats.times.get(name)]
    for name, values in rows:
        ms = [v * 1000 for v in values]
        print(f"{name:<44} {len(ms):7d} {percentile(ms, 50):8.1f} {percentile(ms, 95):8.1f} {percentile(ms, 99):8.1f}")
    print("errors:", dict(stats.errors) or "none", "| in the warm-up:", dict(warm.errors) or "none")
    stats.applications.update(warm.applications)
    stats.completions += warm.completions
    problems = check(args.database_url, tmp, stats)
    print("acknowledged writes in the database exactly once:", "yes" if not problems else "NO")
    for problem in problems[:20]:
        print("  ", problem)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
