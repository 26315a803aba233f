"""Analysis, not a benchmark of the product: how low can (b) go on this design?

Runs the happy path of bench_engine.py's (a) and (b), taking turns, four ways: as shipped, with
the workflow-state snapshot switched off (no pruning, serializing or compressing: what an
event-sourced store that snapshots rarely would save), with form validation switched off, and
with both off. The switched-off variants are NOT correct engines (nothing is stored to restore
from, nothing is checked); they bound what removing those costs could gain. Each variant runs in
a fresh process; minima over many cases, since the machine is shared and noisy.

    .venv/bin/python tests/bench/floor.py [cases]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ("as shipped", "no state snapshot", "no validation", "neither")


def run(variant: str, cases: int) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests" / "bench"))
    os.environ.setdefault("SIBALANG_INSTANCE_DIR", tempfile.mkdtemp(prefix="sibalang-floor-"))
    from bench_engine import EngineBench, bare_spiff_case

    from engine import cases as engine_cases

    if variant in ("no state snapshot", "neither"):
        # one case at a time: the in-process cache hands back the live workflow every step
        engine_cases.dump_instance = lambda workflow: b"-"  # type: ignore[assignment]
        engine_cases.prune_history = lambda workflow: None  # type: ignore[assignment]
    if variant in ("no validation", "neither"):
        engine_cases.validate_submission = lambda schema, data: dict(data)  # type: ignore[assignment]

    bench = EngineBench(Path(os.environ["SIBALANG_INSTANCE_DIR"]))
    bare = bare_spiff_case()
    for _ in range(20):
        bare()
        bench.case()
    a, b = [], []
    for _ in range(cases):
        t0 = time.perf_counter()
        bare()
        a.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        bench.case()
        b.append(time.perf_counter() - t0)
    bench.close()
    print(
        f"{variant:<18} a {min(a) * 1000:5.2f}  b {min(b) * 1000:5.2f}  b/a {min(b) / min(a):4.2f}"
        f"   (medians: a {statistics.median(a) * 1000:5.2f}  b {statistics.median(b) * 1000:5.2f})",
        flush=True,
    )


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--variant":
        run(sys.argv[2], int(sys.argv[3]))
        return
    cases = sys.argv[1] if len(sys.argv) > 1 else "300"
    print(f"rujukan happy path, minimum ms per case over {cases} cases (a bare SpiffWorkflow, b engine)")
    for variant in VARIANTS:
        subprocess.run([sys.executable, __file__, "--variant", variant, cases], check=True)


if __name__ == "__main__":
    main()
