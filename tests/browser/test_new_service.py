"""Issue 14's last 'done when' in a real browser: an administrator uploads a small diagram of its
own (disaster aid), adds the service to the catalogue, and a resident applies for it from the
public page on a phone; the case starts that procedure and reaches its operator's inbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.test_processes import CORPUS

from .conftest import ARTIFACTS, LiveServer
from .test_public_pages import PHONE, jpeg
from .test_staff_ui import login

pytestmark = pytest.mark.browser

BUNDLE = ("bantuan_bencana.bpmn", "forms/verifikasi_bencana.json", "forms/penyaluran_bencana.json")


def test_an_admin_adds_disaster_aid_and_a_resident_applies_for_it(
    live: LiveServer, new_page: Any, tmp_path: Path
) -> None:
    admin = new_page()
    login(admin, "admin", lands=r"/admin/$")
    admin.set_input_files("input[name=files]", [str(CORPUS / name) for name in BUNDLE])
    admin.get_by_role("button", name="Periksa dan pasang").click()
    admin.wait_for_selector("#proc-bantuan_bencana")
    admin.goto("/admin/layanan")
    admin.fill("#s-key", "bantuan_bencana")
    admin.fill("#s-label", "Bantuan Bencana")
    admin.fill("#s-description", "Bantuan bagi korban banjir, kebakaran dan bencana lain.")
    admin.select_option("#s-process", "bantuan_bencana")
    for kind in ("ktp", "kk"):
        admin.locator(f"#service-form input[name=documents][value={kind}]").check()
    admin.get_by_role("button", name="Simpan layanan").click()
    admin.wait_for_selector("td >> text=bantuan_bencana")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    admin.screenshot(path=str(ARTIFACTS / "admin-catalogue-with-disaster-aid.png"), full_page=True)

    resident = new_page(**PHONE)
    resident.goto("/apply")
    resident.locator("input[name=service][value=bantuan_bencana]").check()
    assert resident.locator("#doc_kk").is_visible()
    resident.select_option("#ppks_category", "korban_bencana_alam")
    resident.fill("#description", "Rumah kami terendam banjir sejak tiga hari lalu")
    resident.fill("#nik", "6311065403520009")
    resident.fill("#kk_number", "6311060101000001")
    resident.fill("#name", "Aminah")
    resident.fill("#birth_date", "1952-03-14")
    resident.locator("input[name=gender][value=P]").check()
    resident.fill("#phone", "0812 3456 7800")
    resident.fill("#address", "Jl. Demo RT 01")
    resident.select_option("#kecamatan", "63.11.06")
    resident.select_option("#village_code", "63.11.06.1019")
    resident.set_input_files("#doc_ktp", jpeg(tmp_path))
    resident.set_input_files("#doc_kk", jpeg(tmp_path, "kk.jpg"))
    for field in ("doc_ktp", "doc_kk"):  # each file is shrunk and sent on its own as soon as it is chosen
        resident.locator(f"#{field}-upload").filter(has_text="Terunggah").wait_for(timeout=30000)
    resident.locator("input[name=consent]").check()
    resident.get_by_role("button", name="Kirim permohonan").click()
    resident.wait_for_url("**/terkirim/*")
    reference = resident.locator("#reference").inner_text()
    assert resident.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    resident.screenshot(path=str(ARTIFACTS / "public-receipt-disaster-aid-360.png"), full_page=True)

    operator = new_page()
    login(operator, "operator")
    operator.fill("#q", reference)
    row = operator.locator("table.tasks tbody tr", has_text=reference)
    row.wait_for()
    assert "Bantuan Bencana" in row.inner_text() or "bencana" in row.inner_text().lower()
    row.get_by_role("button", name="Ambil").click()
    operator.wait_for_url(re.compile(r"/tasks/"))
    assert operator.locator("form.task-form [name=jenis_bencana]").count() >= 1  # the new diagram's own form
