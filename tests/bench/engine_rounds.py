"""A benchmark worker for a checkout of the project: ``python engine_rounds.py ROOT [--without-letters]``.

It imports ``ROOT``'s code only (its ``tests/bench/bench_engine.py:EngineBench`` on a fresh
SQLite file), says ``ready``, then for each line ``N`` read from stdin runs N happy-path cases
and prints the seconds they took. ``bench_engine.py`` alternates its own rounds with these, so
today's code and an earlier commit (``BENCH_BASELINE``) meet the same noise from the machine.
Only the standard library is imported before ``ROOT`` is on the path. ``--without-letters``
(this checkout only) first redeploys the procedure without its letters, so today's engine runs
in a process like the baseline's, on the same work.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    root = Path(sys.argv[1]).resolve()
    tmp = Path(tempfile.mkdtemp(prefix="sibalang-baseline-"))
    os.environ["SIBALANG_INSTANCE_DIR"] = str(tmp)
    os.chdir(root)
    sys.path.insert(0, str(root))
    from tests.bench.bench_engine import EngineBench

    bench = EngineBench(tmp)
    if "--without-letters" in sys.argv[2:]:
        bench.without_letters()
    bench.case()  # warm caches, as the parent does
    print("ready", flush=True)
    for line in sys.stdin:
        cases = int(line)
        t0 = time.perf_counter()
        for _ in range(cases):
            bench.case()
        print(time.perf_counter() - t0, flush=True)


if __name__ == "__main__":
    main()
