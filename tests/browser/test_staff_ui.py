"""The staff UI in a real browser: a whole referral through the inbox, roles, errors, races, phones."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import ARTIFACTS, PASSWORD, LiveServer

pytestmark = pytest.mark.browser

# What each role types into its form, in the order the referral reaches them.
REFERRAL_STEPS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "operator",
        "verifikasi",
        {"status_dtsen": "terdaftar", "desil": "2", "nik_kk_sesuai": True, "decision": "lengkap"},
    ),
    (
        "supervisor",
        "kunjungan",
        {
            "tanggal_kunjungan": "2026-11-20",
            "kondisi_rumah": "kurang_layak",
            "status_tempat_tinggal": "milik_sendiri",
            "jumlah_anggota_keluarga": "4",
            "penghasilan_bulanan": "800.000",
            "kondisi_kesehatan": "Lumpuh kedua kaki sejak 2019",
            "kebutuhan": "Kursi roda standar",
            "decision": "layak",
        },
    ),
    ("manager", "reviu_manager", {"decision": "setuju", "catatan": "Sesuai hasil kunjungan"}),
    ("kadis", "mengetahui_kadis", {"decision": "mengetahui"}),
    ("manager", "teruskan_kabid", {"bidang": "rehsos"}),
    ("kabid_rehsos", "keputusan_kabid", {"decision": "setuju", "intervensi": "Kursi roda standar dewasa"}),
    ("manager", "terbitkan_surat", {"isi_rekomendasi": "Direkomendasikan menerima kursi roda."}),
    (
        "front_office",
        "serah_terima",
        {"tanggal_serah": "2026-11-27", "diterima_oleh": "Pemohon", "hubungan": "pemohon_sendiri", "cara": "langsung"},
    ),
]


def login(page: Any, username: str, lands: str = r"/inbox") -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(lands))


def logout(page: Any) -> None:
    page.click(".menu summary")
    page.click("text=Keluar")
    page.wait_for_url(re.compile(r"/login"))


def fill_form(page: Any, data: dict[str, Any]) -> None:
    form = page.locator("form.task-form")
    for name, value in data.items():
        field = form.locator(f'[name="{name}"]').first
        kind = field.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
        if kind == "input:radio":
            form.locator(f'input[name="{name}"][value="{value}"]').check()
        elif kind == "input:checkbox" and isinstance(value, bool):
            field.set_checked(value)
        elif kind == "input:checkbox":
            for item in value:
                form.locator(f'input[name="{name}"][value="{item}"]').check()
        elif kind.startswith("select"):
            field.select_option(value)
        else:
            field.fill(str(value))


def open_from_inbox(page: Any, reference: str) -> None:
    """Find the case in the inbox by its reference and claim its task."""
    page.fill("#q", reference)
    row = page.locator("table.tasks tbody tr", has_text=reference)
    row.wait_for()
    row.get_by_role("button", name="Ambil").click()
    page.wait_for_url(re.compile(r"/tasks/"))


def submit(page: Any) -> None:
    page.click("form.task-form button.primary")


def test_a_referral_goes_through_every_role_in_the_browser(live: LiveServer, new_page: Any) -> None:
    reference = live.new_case(0)
    page = new_page()
    for username, step, data in REFERRAL_STEPS:
        login(page, username)
        open_from_inbox(page, reference)
        assert page.locator("h1").inner_text(), step
        fill_form(page, data)
        submit(page)
        page.wait_for_url(re.compile(r"/inbox"))
        assert "selesai" in page.locator(".flash-success").inner_text()
        logout(page)
    login(page, "auditor", lands=r"/audit/")  # an auditor has no inbox: the audit pages
    page.goto(f"/cases/{reference}")
    assert "Selesai" in page.locator(".badge").first.inner_text()
    timeline = page.locator(".timeline").inner_text()
    assert "Kursi roda standar dewasa" in timeline and "Kasus ditutup" in timeline
    assert page.locator(".steps li.done").count() >= len(REFERRAL_STEPS)  # the plain list of steps
    assert not page.locator("#diagram[data-ready]").count()  # the diagram waits until asked for
    page.click("#diagram-panel summary")
    page.wait_for_selector("#diagram[data-ready='1']")
    assert page.locator("#diagram .djs-element.done").count() >= len(REFERRAL_STEPS)


def test_a_user_of_another_role_neither_sees_nor_opens_the_task(live: LiveServer, new_page: Any) -> None:
    reference = live.new_case(1)
    task_id = live.open_task_id(reference)
    page = new_page()
    login(page, "supervisor")
    page.fill("#q", reference)
    page.wait_for_selector(".empty")
    assert reference not in page.locator("#task-table").inner_text()
    answer = page.goto(f"/tasks/{task_id}")
    assert answer is not None and answer.status == 403
    assert "bukan untuk peran" in page.locator("main").inner_text()


def test_validation_errors_appear_next_to_their_fields_and_keep_what_was_typed(live: LiveServer, new_page: Any) -> None:
    reference = live.new_case(2)
    page = new_page()
    login(page, "operator")
    open_from_inbox(page, reference)
    fill_form(page, {"decision": "ditolak", "catatan": "Cek ulang KTP"})
    submit(page)
    page.wait_for_selector(".field.has-error")
    assert page.locator('[data-field="alasan"] .error').inner_text() == "Wajib diisi."
    assert page.locator('[data-field="kategori_penolakan"] .error').inner_text() == "Wajib diisi."
    assert page.locator('[data-field="status_dtsen"] .error').is_visible()
    assert page.locator('textarea[name="catatan"]').input_value() == "Cek ulang KTP"
    assert page.locator('input[name="decision"][value="ditolak"]').is_checked()


def test_two_people_completing_the_same_task_one_wins_the_other_is_told(live: LiveServer, new_page: Any) -> None:
    reference = live.new_case(3)
    task_id = live.open_task_id(reference)
    first, second = new_page(), new_page()
    for page in (first, second):
        login(page, "operator")
        page.goto(f"/tasks/{task_id}")
        fill_form(page, {"status_dtsen": "terdaftar", "decision": "lengkap"})
    submit(first)
    first.wait_for_selector(".flash-success")
    submit(second)
    second.wait_for_url(re.compile(r"/inbox"))
    message = second.locator(".flash-error").inner_text()
    assert "sudah diselesaikan" in message
    assert "Traceback" not in second.content()


@pytest.mark.parametrize("width", [1280, 360])
def test_screenshots_of_inbox_task_and_case(live: LiveServer, new_page: Any, width: int) -> None:
    references = [live.new_case(i) for i in range(4, 8)]
    page = new_page(width=width, height=800)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    login(page, "operator")
    page.wait_for_selector("table.tasks")
    page.screenshot(path=str(ARTIFACTS / f"inbox-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto(f"/tasks/{live.open_task_id(references[0])}")
    fill_form(page, {"decision": "ditolak"})
    submit(page)
    page.wait_for_selector(".field.has-error")
    page.screenshot(path=str(ARTIFACTS / f"task-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto(f"/cases/{references[0]}")
    page.fill("#comment", "Foto KTP buram, mohon dicek saat kunjungan.")
    page.click("#komentar button[type=submit]")
    page.click("#diagram-panel summary")
    page.wait_for_selector("#diagram[data-ready='1']")
    page.screenshot(path=str(ARTIFACTS / f"case-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator("#diagram .djs-element.current").count() == 1


def test_the_inbox_is_light_and_loads_no_diagram_viewer(live: LiveServer, new_page: Any) -> None:
    page = new_page(width=360)
    sizes: list[tuple[str, int]] = []
    page.on("response", lambda r: sizes.append((r.url, len(r.body()) if r.ok else 0)))
    login(page, "manager")
    page.wait_for_load_state("networkidle")
    assert not any("bpmn" in url for url, _ in sizes)
    assert sum(size for _, size in sizes) < 300 * 1024
