"""Benchmark: verify + replay of N completed referral cases (default 10,000); target ≥ 300 cases/s.

The cases are made once through the real engine (intake, then the eight steps, one transaction
each) in a SQLite file kept under the temp directory and
reused by later runs (``BENCH_AUDIT_DIR`` chooses the directory). Then, in one run, it times what ``audit verify --all`` does per case (chain,
anchor check, replay, comparison with the stored state), the chain check alone, and records memory
while going: RSS every 1,000 cases, and tracemalloc's current/peak over a second, shorter pass.

    .venv/bin/python tests/bench/bench_audit.py            # BENCH_AUDIT_CASES=10000
    BENCH_AUDIT_WORKERS=2 …                                # processes for the --workers figure (default: cores)
    BENCH_AUDIT_BUILDERS=2 nice -n 19 …                    # build with 2 processes on the same file

Building issues each case's signed letter (~0.3 s), so 10,000 cases take about an hour once on
one core (two builders share the work on one SQLite file: each case is built the same way).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TARGET = 300.0


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(directory: Path, count: int, builders: int = 1) -> None:
    """``count`` completed referrals through the engine, in ``directory``/bench.db.

    ``builders`` > 1: that many processes share the work on the same file (each case still the
    real intake and eight transactions with its signed letter); SQLite serializes their writes,
    the busy timeout makes each wait for the other, and a transaction that loses anyway is rolled
    back and run again, as a client would retry.
    """
    from tests.bench.bench_engine import EngineBench

    directory.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if builders <= 1:
        build_part(directory, count, EngineBench(directory))
    else:
        EngineBench(directory).close()  # the schema, the procedures and the users, once
        shares = [count // builders + (n < count % builders) for n in range(builders)]
        children = [
            subprocess.Popen(
                [sys.executable, __file__, "--build-part", str(share)],
                env=os.environ | {"BENCH_AUDIT_DIR": str(directory)},
            )
            for share in shares
        ]
        failed = [child.args for child in children if child.wait() != 0]
        assert not failed, f"builders failed: {failed}"
    print(f"  built {count} cases in {time.perf_counter() - t0:.0f} s ({builders} builders)", flush=True)
    (directory / "complete").write_text(str(count))


def build_part(directory: Path, count: int, bench: Any = None) -> None:
    """One builder's ``count`` cases (a fresh :class:`EngineBench` on the shared file unless given)."""
    from engine import intake
    from engine.cases import complete_task
    from tests.bench.bench_engine import EngineBench
    from tests.test_rujukan import HAPPY
    from web.demo import SAMPLE_DATA

    bench = bench or EngineBench(directory, setup=False)
    session = bench.db.session

    def retried(step: Any) -> Any:
        for attempt in range(50):
            try:
                result = step()
                session.commit()
                return result
            except OperationalError as exc:  # "database is locked": the other builder won
                session.rollback()
                if "locked" not in str(exc) or attempt == 49:
                    raise
                time.sleep(random.uniform(0.01, 0.1))
        raise AssertionError("unreachable")

    t0 = time.perf_counter()
    for n in range(count):
        case = retried(
            lambda: intake.submit_application(
                session, bench.payload, bench.actors["front_office"], bench.tick(), "P14D"
            )[0]
        )
        for name in HAPPY:

            def step(name: str = name, case_id: int = case.id) -> None:
                task_id, role, _ = bench.open_task(case_id)
                complete_task(
                    session, task_id, bench.actors[role], SAMPLE_DATA[name], bench.tick(), letters=bench.letters
                )

            retried(step)
        assert case.status == "completed", case.status
        session.expunge_all()
        if (n + 1) % 500 == 0:
            print(f"  [{os.getpid()}] built {n + 1} cases ({(n + 1) / (time.perf_counter() - t0):.1f}/s)", flush=True)
    bench.close()


def main() -> None:
    count = int(os.environ.get("BENCH_AUDIT_CASES", "10000"))
    directory = Path(os.environ.get("BENCH_AUDIT_DIR", Path(tempfile.gettempdir()) / f"sibalang-bench-audit-{count}"))
    path = directory / "bench.db"
    os.environ.setdefault("SIBALANG_INSTANCE_DIR", str(directory))
    if not (directory / "complete").exists():
        print(f"building {count} completed cases in {path} (once) …", flush=True)
        if path.exists():
            path.unlink()
        build(directory, count, int(os.environ.get("BENCH_AUDIT_BUILDERS", "1")))

    from sqlalchemy import func, select

    from engine import anchors
    from engine.audit import case_events
    from engine.chain import check_chain
    from engine.integrity import plan_verification, verify_cases, verify_cases_in_workers
    from engine.models import Case
    from tests.conftest import make_config
    from tests.tampering import signing_pair
    from web import create_app
    from web.extensions import db

    key, cert = directory / "keys" / "signing-key.pem", directory / "keys" / "signing-cert.pem"
    if not cert.exists():  # once, with the database: its anchors are signed with this key
        key, cert = signing_pair(directory / "keys")
    app = create_app(make_config(directory, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}"))
    with app.app_context():
        total = db.session.scalar(select(func.count(Case.id)))
        assert total == count, f"{path} holds {total} cases, not {count}: delete it to rebuild"
        from letters.signing import load_key_pair

        pair = load_key_pair(cert, key)
        t0 = time.perf_counter()
        if anchors.latest_anchor(db.session) is None:
            anchors.create_anchor(db.session, pair, datetime.now(UTC))
            db.session.commit()
        t_anchor = time.perf_counter() - t0

        t0 = time.perf_counter()
        plan = plan_verification(db.session, certificate=pair.certificate)
        t_plan = time.perf_counter() - t0
        assert not plan.anchor_problems and len(plan.anchored) == count

        rss = [(0, rss_mb())]
        t0 = time.perf_counter()
        bad = 0
        for n, verdict in enumerate(verify_cases(db.session, plan.case_ids, plan.anchored), start=1):
            bad += not verdict.consistent
            if n % 1000 == 0:
                rss.append((n, rss_mb()))
        t_verify = time.perf_counter() - t0
        assert bad == 0, f"{bad} inconsistent cases in an untouched record"

        workers = int(os.environ.get("BENCH_AUDIT_WORKERS", os.cpu_count() or 1))
        t0 = time.perf_counter()  # what `audit verify --all --workers N` does (process start included)
        seen = sum(
            1
            for v in verify_cases_in_workers(f"sqlite:///{path}", plan.case_ids, plan.anchored, workers)
            if v.consistent
        )
        t_workers = time.perf_counter() - t0
        assert seen == count

        subset = plan.case_ids[: min(count, 2000)]
        t0 = time.perf_counter()
        for start in range(0, len(subset), 200):
            for case in db.session.scalars(select(Case).where(Case.id.in_(subset[start : start + 200]))):
                assert not check_chain(case, case_events(db.session, case))
            db.session.expunge_all()
        t_chain = time.perf_counter() - t0

        tracemalloc.start()
        traced = []
        for n, _ in enumerate(verify_cases(db.session, subset, plan.anchored), start=1):
            if n % 500 == 0:
                current, peak = tracemalloc.get_traced_memory()
                traced.append((n, current / 2**20, peak / 2**20))
        tracemalloc.stop()
        db.session.rollback()

    from tests.bench.bench_engine import bare_spiff_case

    bare = bare_spiff_case()
    bare()
    sample = min(count, 1000)
    t0 = time.perf_counter()
    for _ in range(sample):
        bare()
    bare_rate = sample / (time.perf_counter() - t0)

    rate = count / t_verify
    print(f"\nverify + replay of {count} completed referral cases (SQLite file, one process)")
    print(f"  anchor over all heads (signed):      {t_anchor * 1000:8.0f} ms")
    print(f"  anchors checked, cases listed:       {t_plan * 1000:8.0f} ms")
    print(f"  verify + replay, all cases:          {t_verify:8.1f} s  = {rate:6.0f} cases/s  (target ≥ {TARGET:.0f})")
    rate_workers = count / t_workers
    print(
        f"  the same in {workers} processes (--workers):  {t_workers:8.1f} s  = {rate_workers:6.0f} cases/s"
        f"  ({rate_workers / rate:.2f} × one process)"
    )
    print(f"  chain check alone ({len(subset)} cases):     {len(subset) / t_chain:8.0f} cases/s")
    print(f"  replay share of the per-case cost:   {1 - (t_chain / len(subset)) / (t_verify / count):8.0%}")
    print(f"  bare SpiffWorkflow happy path alone: {bare_rate:8.0f} cases/s  (in memory: no database, no checks)")
    print(f"  verify + replay cost / bare run:     {bare_rate / rate:8.2f} ×")
    print("  RSS (MB) every 1000 cases:           " + " ".join(f"{mb:.0f}" for _, mb in rss))
    print("  tracemalloc current/peak (MB):       " + " ".join(f"{n}:{c:.1f}/{p:.1f}" for n, c, p in traced))
    best = max(rate, rate_workers)
    print(f"  {'MEETS' if best >= TARGET else 'BELOW'} the target: {best / TARGET:.2f} × {TARGET:.0f} cases/s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build-part"]:
        build_part(Path(os.environ["BENCH_AUDIT_DIR"]), int(sys.argv[2]))
    else:
        main()
