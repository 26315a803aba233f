"""Benchmark: what a public application form with six big photos costs the server.

Run with `.venv/bin/python tests/bench/bench_uploads.py` (outside the default test run). Each
scenario runs in its own process (a fresh peak RSS), posting to ``/apply`` through the app:
(a) an invalid form (bad NIK) with six 6000×6000 PNGs, the probe's finding (was ~7.5 s CPU and
+385 MB); (b) the same with six 4000×4000 PNGs, under the pixel budget; (c) a valid form with one
4000×3000 PNG (decoded once, shrunk and stored). Prints CPU seconds and peak RSS growth of the
request (current RSS sampled every 5 ms), and the number of images Pillow decoded.
"""

from __future__ import annotations

import io
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

KINDS = ("ktp", "kk", "foto", "surat_keterangan_desa", "surat_keterangan_dokter", "surat_pengantar_dinsos")


def scenario(name: str, queue: Any) -> None:
    from PIL import ImageFile

    from tests.conftest import app_on
    from tests.test_public_pages import apply_form
    from tests.test_server_errors import big_png, post_form

    if name == "invalid_6x36MP":
        form = apply_form(0, nik="123")
        form.update({f"doc_{k}": (io.BytesIO(big_png(6000, 6000)), f"{k}.png") for k in KINDS})
    elif name == "invalid_6x16MP":
        form = apply_form(0, nik="123")
        form.update({f"doc_{k}": (io.BytesIO(big_png(4000, 4000)), f"{k}.png") for k in KINDS})
    else:
        form = apply_form(0)
        form["doc_ktp"] = (io.BytesIO(big_png(4000, 3000)), "ktp.png")
    decoded: list[tuple[int, int]] = []
    original = ImageFile.ImageFile.load

    def counting_load(self: Any) -> Any:
        if self.tile:
            decoded.append(self.size)
        return original(self)

    ImageFile.ImageFile.load = counting_load  # type: ignore[method-assign]
    with app_on(Path(tempfile.mkdtemp())) as app:
        client = app.test_client()
        before_rss, peak, done = rss_kb(), [0], threading.Event()

        def sample() -> None:  # the current RSS every 5 ms while the request runs
            while not done.is_set():
                peak[0] = max(peak[0], rss_kb())
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.process_time()
        answer = post_form(client, "/apply", form)
        cpu = time.process_time() - start
        done.set()
        sampler.join()
    queue.put((name, answer.status_code, cpu, max(0, peak[0] - before_rss) / 1024, len(decoded)))


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    context = multiprocessing.get_context("spawn")
    print(f"{'scenario':18} {'status':>6} {'CPU s':>7} {'peak RSS +MB':>13} {'decoded':>8}")
    for name in ("invalid_6x36MP", "invalid_6x16MP", "valid_1x12MP"):
        queue = context.Queue()
        child = context.Process(target=scenario, args=(name, queue))
        child.start()
        result = queue.get(timeout=300)
        child.join()
        print(f"{result[0]:18} {result[1]:>6} {result[2]:>7.2f} {result[3]:>13.1f} {result[4]:>8}")


if __name__ == "__main__":
    main()
