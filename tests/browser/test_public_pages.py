"""The public pages in a real browser at 360 px: apply, complain, track, complete documents, verify."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from .conftest import ARTIFACTS, LiveServer

pytestmark = pytest.mark.browser

XSS = "<script>alert(1)</script>"
PHONE = {"width": 360, "height": 740}


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"public-{name}-360.png"), full_page=True)


def jpeg(tmp_path: Path, name: str = "ktp.jpg") -> str:
    path = tmp_path / name
    Image.new("RGB", (120, 80), (30, 120, 60)).save(path, "JPEG")
    return str(path)


def no_dialogs(page: Any) -> list[str]:
    seen: list[str] = []
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    return seen


def start_case(live: LiveServer, index: int = 4) -> tuple[str, str]:
    from engine import intake
    from engine.audit import APPLICANT
    from engine.clock import utcnow
    from web.demo import sample_application
    from web.extensions import db

    with live.app.app_context():
        data = intake.ApplicationSchema().load(sample_application(index))
        case, code, _ = intake.submit_application(db.session, data, APPLICANT, utcnow(), "P14D")
        db.session.commit()
        return case.reference, code


def mark_incomplete(live: LiveServer, reference: str) -> None:
    from engine.cases import complete_task
    from engine.clock import utcnow
    from engine.models import User
    from web.auth import actor_for
    from web.extensions import db

    task_id = live.open_task_id(reference)
    with live.app.app_context():
        operator = db.session.query(User).filter_by(username="operator").one()
        data = {
            "status_dtsen": "terdaftar",
            "decision": "tidak_lengkap",
            "dokumen_kurang": ["kk", "surat_keterangan_desa"],
            "catatan": "catatan internal rahasia",
        }
        complete_task(db.session, task_id, actor_for(operator), data, utcnow())
        db.session.commit()


def test_home_at_360_px(new_page: Any) -> None:
    page = new_page(**PHONE)
    page.goto("/")
    tiles = page.locator(".features a")
    assert tiles.all_inner_texts() == [
        "Panti Rehab",
        "Sandang",
        "SLRT",
        "Alat Bantu",
        "Berdaya",
        "Pendamping",
        "Cuaca",
        "Aduan",
    ]  # fmt: skip  (the seed's eight features, in its order)
    assert all(tile.is_visible() for tile in tiles.all())
    for name in ("Lacak permohonan", "Cek keaslian surat"):
        assert page.get_by_role("link", name=re.compile(name)).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "home")


def test_an_application_with_mistakes_then_fixed_at_360_px(new_page: Any, tmp_path: Path) -> None:
    page = new_page(**PHONE)
    dialogs = no_dialogs(page)
    page.goto("/apply")
    # the script puts kecamatan first and narrows the desa list to it
    assert page.locator("#kecamatan").is_visible()
    page.locator("input[name=service][value=alat_bantu]").check()
    assert page.locator("#doc_surat_keterangan_dokter").is_visible()
    assert not page.locator("#doc_surat_keterangan_desa").is_visible()
    page.select_option("#ppks_category", "penyandang_disabilitas")
    page.fill("#description", f"Butuh kursi roda {XSS}")
    page.fill("#nik", "6311065403520009")
    page.fill("#kk_number", "1234")
    page.fill("#name", f"Aminah {XSS}")
    page.fill("#birth_date", "2099-01-01")
    page.locator("input[name=gender][value=P]").check()
    page.fill("#phone", "0812 3456 7800")
    page.fill("#address", f"Jl. Demo RT 01 {XSS}")
    page.select_option("#kecamatan", "63.11.06")
    desa_options = page.locator("#village_code option").count()
    assert 1 < desa_options < 40  # only Paringin's desa, not all 157
    page.select_option("#village_code", "63.11.06.1019")
    page.set_input_files("#doc_ktp", jpeg(tmp_path))
    page.get_by_role("button", name="Kirim permohonan").click()
    assert page.locator("#kk_number-error").inner_text() == "Nomor KK harus 16 digit angka."
    assert "masa depan" in page.locator("#birth_date-error").inner_text()
    assert page.locator("#consent-error").is_visible()
    assert page.locator("#name").input_value() == f"Aminah {XSS}"  # kept, and inert
    assert page.locator("#village_code").input_value() == "63.11.06.1019"
    shot(page, "apply-errors")
    page.fill("#kk_number", "6311060101000001")
    page.fill("#birth_date", "1952-03-14")
    page.locator("input[name=consent]").check()
    page.set_input_files("#doc_ktp", jpeg(tmp_path))
    page.get_by_role("button", name="Kirim permohonan").click()
    page.wait_for_url("**/terkirim/*")
    reference = page.locator("#reference").inner_text()
    assert reference.startswith("RJK-") and len(page.locator("#tracking-code").inner_text()) == 8
    shot(page, "receipt")
    page.get_by_role("link", name="Lihat status").click()
    assert page.locator("h1").inner_text() == f"Permohonan {reference}"
    assert page.get_by_role("link", name="KTP").is_visible()
    assert dialogs == []
    shot(page, "track-status")


def test_the_apply_form_works_without_javascript(browser: Any, live: LiveServer) -> None:
    context = browser.new_context(viewport=PHONE, base_url=live.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/apply")
        assert not page.locator("#kecamatan").is_visible()
        assert page.locator("#village_code optgroup").count() == 8
        assert page.locator("#doc_surat_pengantar_dinsos").is_visible()  # every document field shows
        shot(page, "apply-nojs")
    finally:
        context.close()


def test_a_complaint_at_360_px(new_page: Any) -> None:
    page = new_page(**PHONE)
    dialogs = no_dialogs(page)
    page.goto("/complaint")
    page.get_by_label("Bansos tidak tepat sasaran").check()
    page.fill("#description", f"Bantuan diterima keluarga mampu {XSS}")
    page.fill("#name", XSS)
    page.fill("#phone", "12345")
    page.select_option("#kecamatan", "63.11.06")
    page.select_option("#village_code", "63.11.06.1019")
    page.get_by_role("button", name="Kirim aduan").click()
    assert "Nomor telepon" in page.locator("#phone-error").inner_text()
    shot(page, "complaint-errors")
    page.fill("#phone", "0812 9876 5432")
    page.get_by_role("button", name="Kirim aduan").click()
    page.wait_for_url("**/terkirim/*")
    assert page.locator("#reference").inner_text().startswith("ADU-")
    assert dialogs == []


def test_the_applicant_completes_missing_documents_at_360_px(new_page: Any, live: LiveServer, tmp_path: Path) -> None:
    reference, code = start_case(live)
    mark_incomplete(live, reference)
    page = new_page(**PHONE)
    page.goto("/track")
    page.fill("#reference", reference)
    page.fill("#tracking_code", "SALAHKOD")
    page.get_by_role("button", name="Lihat status").click()
    assert "tidak cocok" in page.locator(".alert").inner_text()
    page.fill("#tracking_code", code)
    page.get_by_role("button", name="Lihat status").click()
    missing = page.locator(".missing")
    assert (
        "Kartu Keluarga (KK)" in missing.inner_text() and "Surat keterangan kepala desa/lurah" in missing.inner_text()
    )
    assert "rahasia" not in page.content()
    shot(page, "track-incomplete")
    bad = tmp_path / "program.jpg"
    bad.write_bytes(b"MZ\x90\x00 not a picture")
    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="Unggah").click()
    assert "Jenis berkas tidak didukung" in page.locator("#file-error").inner_text()
    for label in ("Kartu Keluarga (KK)", "Surat keterangan kepala desa/lurah"):
        page.select_option("#kind", label=label)
        page.set_input_files("#file", jpeg(tmp_path, "dok.jpg"))
        page.get_by_role("button", name="Unggah").click()
        # sent by script with a progress bar, then the status page reloads with the notice
        page.locator(".alert.ok", has_text=f"{label} berhasil diunggah").wait_for()
    assert page.locator(".checklist .done").count() == 2
    shot(page, "track-uploaded")
    page.fill("#note", "Sudah saya lengkapi")
    page.get_by_role("button", name="Kirim kelengkapan").click()
    assert "sudah dikirim" in page.locator(".alert.ok").inner_text()
    assert page.locator(".missing").count() == 0
    assert "Pemohon mengirim kelengkapan berkas." in page.locator(".timeline").inner_text()
    shot(page, "track-resubmitted")


def test_verify_an_unknown_letter_at_360_px(new_page: Any) -> None:
    page = new_page(**PHONE)
    page.goto("/verify")
    page.fill("#token", "TIDAKADA2026")
    page.get_by_role("button", name="Periksa").click()
    assert "/verify/TIDAKADA2026" in page.url
    assert "Surat tidak ditemukan" in page.locator(".alert").inner_text()
    shot(page, "verify-unknown")


def test_screenshots_are_real_images() -> None:
    # guards against a silently skipped browser leaving stale artifacts unnoticed
    for path in ARTIFACTS.glob("public-*-360.png"):
        with Image.open(io.BytesIO(path.read_bytes())) as image:
            assert image.width == 360
