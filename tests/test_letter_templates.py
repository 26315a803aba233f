"""Each letter template renders exactly its committed expected HTML (tests/data/letters/*.html).

After a deliberate change to a template, regenerate with
``.venv/bin/python -m tests.test_letter_templates`` and review the diff before committing.
"""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from config import BASE_DIR, Config
from engine.agency import load_profile
from letters.content import (
    RECOMMENDATION_SERVICES,
    REJECTING_ENDS,
    Applicant,
    CaseFacts,
    LetterDraft,
    draft_recommendation,
    draft_rejection,
)
from letters.pdf import render_pdf
from letters.render import Issue, body_template, render_html

EXPECTED = BASE_DIR / "tests" / "data" / "letters"
APPLICANT = Applicant(
    "Aminah binti Saleh", "6311065403520001", date(1952, 3, 14), "P", "Jl. Demo RT 02", "Paringin Kota", "Paringin"
)
ISSUED = Issue(
    "400.9/007/Dinsos/XI/2026",
    date(2026, 11, 28),
    "https://layar.example/verify/Tok3nContoh",
    "Tok3nContoh",
    "Penerbit Sertifikat Uji",
)
DECISIONS = {
    "panti_rehab": "Panti Sosial Bina Remaja Budi Satria, Banjarbaru",
    "sandang": "1 paket sandang dan perlengkapan tidur senilai Rp2.500.000",
    "alat_bantu": "Kursi roda standar dewasa",
    "slrt": "PBI-JK (Penerima Bantuan Iuran Jaminan Kesehatan)",
    "berdaya": "Bantuan Usaha Ekonomi Produktif (UEP) Rp5.000.000",
    "pendamping": "TKSK Kecamatan Paringin",
    "umum": "Layanan konseling keluarga",
}
REASONS = {
    "ditolak_verifikasi": {"kategori_penolakan": "duplikat", "alasan": "Permohonan RJK-2026-000100 masih diproses."},
    "ditolak_kunjungan": {"tanggal_kunjungan": "2026-11-20", "alasan": "Penghasilan keluarga di atas batas."},
    "ditolak_reviu": {"alasan": "Data kunjungan tidak konsisten dengan dokumen."},
    "ditolak_kabid": {"alasan": "Kuota kursi roda tahun 2026 sudah habis."},
    "umum": {"alasan": "Permohonan ditarik."},
}


def facts(service: str | None) -> CaseFacts:
    return CaseFacts("RJK-2026-000123", date(2026, 11, 2), service, "Penyandang disabilitas", "rehsos", APPLICANT)


def drafts() -> dict[str, LetterDraft]:
    profile = Config.AGENCY
    made = {}
    for service in (*RECOMMENDATION_SERVICES, "umum"):
        data = {
            "intervensi": DECISIONS[service],
            "isi_rekomendasi": "Bantuan diserahkan paling lambat 14 hari kerja.",
            "bidang": "rehsos",
        }
        made[f"rekomendasi-{service}"] = draft_recommendation(
            profile, facts(None if service == "umum" else service), data
        )
    for end in (*REJECTING_ENDS, "umum"):
        made[f"pemberitahuan-{end}"] = draft_rejection(profile, facts("alat_bantu"), end, REASONS[end])
    return made


@pytest.mark.parametrize("name", sorted(drafts()))
def test_each_template_renders_its_expected_html(name: str) -> None:
    html = render_html(Config.AGENCY, drafts()[name], ISSUED)
    expected = (EXPECTED / f"{name}.html").read_text(encoding="utf-8")
    assert html == expected, f"{name}: regenerate with python -m tests.test_letter_templates and review the diff"


def test_every_service_and_every_rejecting_end_has_its_own_body() -> None:
    for name, draft in drafts().items():
        if not name.endswith("-umum"):
            assert body_template(draft) == draft.template, name


def test_every_rejecting_end_of_the_referral_diagram_issues_a_notice_with_its_own_template() -> None:
    diagram = (BASE_DIR / "bpmn" / "rujukan.bpmn").read_text(encoding="utf-8")
    ends = re.findall(r'<bpmn:endEvent id="(\w+)"[^>]*>(?:(?!</bpmn:endEvent>).)*?value="rejected"', diagram, re.S)
    assert sorted(ends) == sorted(REJECTING_ENDS)
    for end in ends:
        block = diagram[diagram.index(f'<bpmn:endEvent id="{end}"') :]
        block = block[: block.index("</bpmn:endEvent>")]
        assert 'name="issuesLetter" value="pemberitahuan"' in block, end


def test_a_preview_has_no_number_no_qr_code_and_says_so() -> None:
    html = render_html(Config.AGENCY, drafts()["rekomendasi-alat_bantu"], Issue(None, date(2026, 11, 28)))
    assert "(diberikan saat surat diterbitkan)" in html and "Pratinjau" in html
    assert "data:image/svg+xml" in html  # the logo…
    assert html.count("data:image/svg+xml") == 1  # …but no QR code


def test_the_letter_follows_the_agency_profile(tmp_path: Path) -> None:
    other = load_profile(BASE_DIR / "tests" / "data" / "agency" / "contoh.toml")
    draft = draft_recommendation(other, facts("alat_bantu"), {"intervensi": "Kruk", "bidang": "rehsos"})
    html = render_html(
        other, draft, Issue("460/0001/REK-rehsos/2026", date(2026, 11, 28), "https://x.example/verify/t0k3n1", "t0k3n1")
    )
    for text in (
        "Pemerintah Kabupaten Tanjung Contoh",
        "Tanjung Elok, 28 November 2026",
        "a.n. Kepala Dinas Sosial P3A,",
        "Rina Percobaan, S.Psi.",
        "Camat setempat",
        "215mm 330mm",
        "Bidang Rehabilitasi dan Perlindungan Sosial",
    ):
        assert text in html, text
    assert "Balangan" not in html
    pdf = tmp_path / "f4.pdf"
    pdf.write_bytes(render_pdf(html))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+609\.\d+ x 935\.\d+ pts", info), info  # F4: 215 × 330 mm


def test_rendering_fetches_nothing_but_data_uris(tmp_path: Path) -> None:
    """Defence in depth behind autoescaping: a letter never reads a local file or a URL."""
    from PIL import Image

    local = tmp_path / "secret.png"
    Image.new("RGB", (40, 40), "red").save(local)
    inline = "data:image/svg+xml;charset=utf-8,%3Csvg xmlns=%27http://www.w3.org/2000/svg%27 width=%2710%27 height=%2710%27/%3E"
    pdf = tmp_path / "out.pdf"

    def images(html: str) -> list[str]:
        pdf.write_bytes(render_pdf(html))
        listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
        return listing.splitlines()[2:]

    assert len(images(f'<p>x</p><img src="{local.as_uri()}" width="40">')) == 0
    assert (
        len(
            images(
                f'<p>x</p><img src="{local.as_uri()}" width="40"><img src="data:image/png;base64,{__import__("base64").b64encode(local.read_bytes()).decode()}">'
            )
        )
        == 1
    )
    assert images(f'<p>x</p><img src="{inline}">') == []  # an SVG is drawn, not an image XObject


if __name__ == "__main__":
    EXPECTED.mkdir(parents=True, exist_ok=True)
    for name, draft in drafts().items():
        (EXPECTED / f"{name}.html").write_text(render_html(Config.AGENCY, draft, ISSUED), encoding="utf-8")
        print("wrote", EXPECTED / f"{name}.html")
