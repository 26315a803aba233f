"""Benchmark: what the sandbox costs per condition/script, against SpiffWorkflow's plain eval/exec.

Run with `.venv/bin/python tests/bench/bench_sandbox.py` (outside the default test run). Prints
medians and ratios measured in one run (the machine is shared and noisy): (a) a gateway
condition, (b) the SLA script of aduan.bpmn, (c) a 1,000-iteration loop, (d) deploy-time check of
every expression in the bundled diagrams, (e) how fast a runaway loop is stopped.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment  # noqa: E402

from engine.expressions import check_diagram_code  # noqa: E402
from engine.sandbox import HELPERS, SafeEnvironment  # noqa: E402
from engine.sandbox_rules import compile_diagram_code  # noqa: E402


def median_of(runs: int, func: Any) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    plain = TaskDataEnvironment(dict(HELPERS))
    safe = SafeEnvironment()
    condition = 'decision == "lengkap"'
    script = 'sla_hari = {"biasa": 5, "segera": 2, "sangat_segera": 1}[urgensi]\nsla_batas = add_working_days(sla_hari)'
    loop = "total = 0\nfor i in range(1000):\n    total += i"
    cases = [
        ("a condition", lambda env: env.evaluate(condition, {"decision": "lengkap"}), 2000),
        ("b SLA script", lambda env: env.execute(script, {"urgensi": "biasa"}), 500),
        ("c 1,000-iteration loop", lambda env: env.execute(loop, {}), 50),
    ]
    print(f"{'case':28} {'plain µs':>10} {'sandbox µs':>11} {'ratio':>7}")
    for name, call, runs in cases:
        base = median_of(runs, lambda c=call: c(plain)) * 1e6
        ours = median_of(runs, lambda c=call: c(safe)) * 1e6
        print(f"{name:28} {base:10.1f} {ours:11.1f} {ours / base:7.1f}")

    files = sorted((ROOT / "bpmn").glob("*.*mn"))
    roots = [(etree.fromstring(p.read_bytes()), p.name) for p in files]

    def check_all() -> None:
        compile_diagram_code.cache_clear()
        for root, name in roots:
            check_diagram_code(root, name)

    print(f"d deploy-time check of {len(files)} bundled files: {median_of(20, check_all) * 1e3:.1f} ms")
    t0 = time.perf_counter()
    try:
        safe.execute("while True:\n    pass", {})
    except Exception as exc:  # noqa: BLE001 - the point is that it stops
        stopped = str(exc).split("(")[1][:40]
    print(f"e runaway loop stopped after {(time.perf_counter() - t0) * 1e3:.0f} ms ({stopped}…)")


if __name__ == "__main__":
    main()
