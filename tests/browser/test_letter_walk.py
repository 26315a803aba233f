"""A letter in a real browser, as issue 11's users meet it: the manager issues it, the front office
prints it at the hand-over, anyone follows its QR address to the verification page and checks the
PDF there, the manager revokes it and the page says so; a rejected case has its notice at once."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .conftest import ARTIFACTS, LiveServer
from .test_admin_modeler import advance
from .test_staff_ui import REFERRAL_STEPS, fill_form, login, logout, open_from_inbox, submit

pytestmark = pytest.mark.browser

UP_TO_THE_LETTER = ("verifikasi", "kunjungan", "reviu_manager", "mengetahui_kadis", "teruskan_kabid", "keputusan_kabid")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"letter-{name}.png"), full_page=True)


def verify_path(pdf: Path) -> str:
    """The verification address the letter prints under its QR code (path only: the test server's
    host is not the configured public one)."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"https?://\S+/verify/[A-Za-z0-9_-]+", text)
    assert found, text
    return urlsplit(found.group(0)).path


def test_a_letter_is_issued_printed_verified_and_revoked_in_the_browser(
    live: LiveServer, new_page: Any, tmp_path: Path
) -> None:
    reference = live.new_case(5)
    advance(live, reference, *UP_TO_THE_LETTER)
    page = new_page()
    steps = {step: (user, data) for user, step, data in REFERRAL_STEPS}
    user, data = steps["terbitkan_surat"]
    login(page, user)
    open_from_inbox(page, reference)
    page.wait_for_selector("iframe.letter-preview")
    fill_form(page, data)
    submit(page)
    page.wait_for_url(re.compile(r"/inbox"))
    logout(page)

    user, data = steps["serah_terima"]
    login(page, user)
    open_from_inbox(page, reference)
    link = page.get_by_role("link", name=re.compile("cetak PDF"))
    answer = page.request.get(link.get_attribute("href"))
    assert answer.ok and answer.headers["content-type"].startswith("application/pdf")
    pdf = tmp_path / "surat.pdf"
    pdf.write_bytes(answer.body())
    fill_form(page, data)
    submit(page)
    page.wait_for_url(re.compile(r"/inbox"))
    logout(page)

    resident = new_page(360, 780)  # anyone with the letter in hand: no login
    resident.goto(verify_path(pdf))
    assert "Surat ini asli dan berlaku" in resident.inner_text("main")
    resident.set_input_files("#file", str(pdf))
    resident.get_by_role("button", name="Periksa berkas").click()
    resident.wait_for_selector("text=Berkas cocok.")
    assert resident.evaluate("document.documentElement.scrollWidth") <= 360
    shot(resident, "verified-360")
    forged = tmp_path / "palsu.pdf"
    forged.write_bytes(pdf.read_bytes().replace(b"/Producer", b"/Produser", 1))
    resident.set_input_files("#file", str(forged))
    resident.get_by_role("button", name="Periksa berkas").click()
    resident.wait_for_selector("text=Berkas tidak cocok.")

    login(page, "manager")
    page.goto(f"/cases/{reference}")
    page.click("summary >> text=Cabut surat")
    page.fill("#reason", "Nama lembaga tujuan salah ketik")
    page.get_by_role("button", name="Cabut surat ini").click()
    page.wait_for_selector("text=Dicabut")
    shot(page, "revoked-staff")
    resident.goto(verify_path(pdf))
    assert "Surat ini telah DICABUT" in resident.inner_text("main")
    shot(resident, "revoked-360")


def test_a_rejected_case_has_its_notice_on_the_tracking_page(live: LiveServer, new_page: Any, tmp_path: Path) -> None:
    from engine import intake
    from engine.clock import utcnow
    from engine.models import User
    from web.auth import actor_for
    from web.demo import sample_application
    from web.extensions import db

    with live.app.app_context():  # an application whose tracking code we keep, as the resident does
        clerk = actor_for(db.session.query(User).filter_by(username="front_office").one())
        case, code, _ = intake.submit_application(
            db.session, intake.ApplicationSchema().load(sample_application(6)), clerk, utcnow(), "P14D"
        )
        db.session.commit()
        reference = case.reference
    page = new_page()
    login(page, "operator")
    open_from_inbox(page, reference)
    rejection = {"status_dtsen": "terdaftar", "decision": "ditolak", "kategori_penolakan": "duplikat"}
    fill_form(page, {**rejection, "alasan": "Sudah pernah dibantu tahun ini"})
    submit(page)
    page.wait_for_url(re.compile(r"/inbox"))

    resident = new_page(360, 780)
    resident.goto("/track")
    resident.fill("#reference", reference)
    resident.fill("#tracking_code", code)
    resident.locator("main form button[type=submit]").click()
    resident.wait_for_url(re.compile(rf"/track/{reference}"))
    download = resident.get_by_role("link", name=re.compile("Unduh surat"))
    answer = resident.request.get(download.get_attribute("href"))
    assert answer.ok and answer.headers["content-type"].startswith("application/pdf")
    notice = tmp_path / "pemberitahuan.pdf"
    notice.write_bytes(answer.body())
    text = subprocess.run(["pdftotext", str(notice), "-"], capture_output=True, text=True, check=True).stdout
    assert "Sudah pernah dibantu tahun ini" in text
    shot(resident, "rejected-tracking-360")
