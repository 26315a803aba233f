"""Benchmark: render and sign one recommendation letter (HTML → PDF/A with QR code → PAdES).

Run with `make bench` (outside the default test run). Target: median render + sign ≤ 200 ms on
this machine. Prints the median of each stage measured in one run (the machine is shared: a busy
neighbour shows as a wide fastest/slowest spread).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from config import Config  # noqa: E402
from letters.content import Applicant, CaseFacts, draft_recommendation  # noqa: E402
from letters.pdf import KeyPairSigner, check_signature, render_pdf, sign_pdf  # noqa: E402
from letters.render import Issue, render_html  # noqa: E402
from letters.signing import create_demo_key_pair  # noqa: E402

RUNS = 30
TARGET_MS = 200.0


def timed(func: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = func()
    return time.perf_counter() - t0, result


def main() -> None:
    profile = Config.AGENCY
    folder = Path(tempfile.mkdtemp(prefix="bench-letters-"))
    pair = create_demo_key_pair(folder / "c.pem", folder / "k.pem", profile.full_name, datetime.now(UTC))
    signer = KeyPairSigner(pair)
    applicant = Applicant("Aminah binti Saleh", "6311065403520001", date(1952, 3, 14), "P", "Jl. Demo RT 02", "Paringin Kota", "Paringin")
    facts = CaseFacts("RJK-2026-000123", date(2026, 11, 2), "alat_bantu", "Penyandang disabilitas", "rehsos", applicant)
    draft = draft_recommendation(profile, facts, {"intervensi": "Kursi roda standar dewasa", "isi_rekomendasi": "Diserahkan 14 hari kerja."})
    html_s, pdf_s, sign_s, total_s = [], [], [], []
    signed = b""
    for seq in range(1, RUNS + 2):
        issue = Issue(f"400.9/{seq:03d}/Dinsos/XI/2026", date(2026, 11, 28), f"https://layar.example/verify/tok{seq:08d}", f"tok{seq:08d}", "Bench")
        t_html, html = timed(lambda issue=issue: render_html(profile, draft, issue))
        t_pdf, pdf = timed(lambda html=html: render_pdf(html))
        t_sign, signed = timed(lambda pdf=pdf: sign_pdf(pdf, signer, reason="Surat Rekomendasi", location=profile.place))
        if seq == 1:
            continue  # warm-up: fonts, templates, imports
        html_s.append(t_html)
        pdf_s.append(t_pdf)
        sign_s.append(t_sign)
        total_s.append(t_html + t_pdf + t_sign)
    check = check_signature(signed, [pair])
    assert check is not None and check.ok
    ms = lambda values: 1000 * statistics.median(values)  # noqa: E731
    total = ms(total_s)
    print(f"letters: {RUNS} runs, median per letter (PDF {len(signed) // 1024} KB, signature valid)")
    print(f"  HTML from templates     {ms(html_s):7.1f} ms")
    print(f"  PDF/A (WeasyPrint)      {ms(pdf_s):7.1f} ms")
    print(f"  PAdES signature         {ms(sign_s):7.1f} ms")
    print(f"  render + sign           {total:7.1f} ms   target ≤ {TARGET_MS:.0f} ms → {'met' if total <= TARGET_MS else 'MISSED'}"
          f" (ratio {total / TARGET_MS:.2f})")
    print(f"  fastest / slowest       {1000 * min(total_s):7.1f} / {1000 * max(total_s):.1f} ms")


if __name__ == "__main__":
    main()
