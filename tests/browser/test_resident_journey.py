"""A resident on a cheap phone (360 px): drafts kept across reloads and lost tabs, Back and
reload after sending never make a second application, the receipt reopens, a lost code comes
back by SMS, and the public pages install and open offline. The long walk runs throttled like
the issue's phone (400 ms latency, 50 KB/s down, 25 KB/s up, CPU 4× slower)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.models import Case, Document, Notification, Person
from engine.notifications import message_of
from web.demo import sample_application
from web.extensions import db

from .conftest import ARTIFACTS, LiveServer
from .test_field_uploads import camera_photo, throttle

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
SLOW = 180_000  # ms: a 300 KB photo at 25 KB/s with 400 ms round trips, on a loaded machine


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"resident-{name}-360.png"), full_page=True)


def phone_context(browser: Any, live: LiveServer, **options: Any) -> Any:
    context = browser.new_context(viewport=PHONE, base_url=live.url, **options)
    context.set_default_timeout(30_000)
    return context


def applications_of(live: LiveServer, nik: str) -> list[str]:
    with live.app.app_context():
        rows = db.session.scalars(
            select(Case.reference).join(Person, Case.person_id == Person.id).where(Person.nik == nik)
        )
        references = list(rows)
        db.session.remove()
    return references


def fill_apply(page: Any, index: int, *, consent: bool = True) -> dict[str, Any]:
    sample = sample_application(index)
    person = sample["applicant"]
    page.check(f"input[name=service][value={sample['service']}]")
    page.select_option("#ppks_category", sample["ppks_category"])
    page.fill("#description", sample["description"] + " Sudah dua tahun tidak bisa berjalan.")
    for field in ("nik", "kk_number", "name", "birth_date", "phone", "address"):
        page.fill(f"#{field}", person[field])
    page.check(f"input[name=gender][value={person['gender']}]")
    if page.locator("#kecamatan").is_visible():  # the kecamatan step comes with JavaScript
        page.select_option("#kecamatan", person["village_code"][:8])
    page.select_option("#village_code", person["village_code"])
    if consent:
        page.check("input[name=consent]")
    return sample


def test_a_draft_survives_a_reload_and_a_lost_tab_and_goes_once_sent(browser: Any, live: LiveServer) -> None:
    context = phone_context(browser, live)
    try:
        page = context.new_page()
        page.goto("/apply")
        sample = fill_apply(page, 1, consent=False)
        page.wait_for_timeout(600)  # the draft is written 300 ms after the last keystroke
        page.reload()
        assert page.locator("#draft-restored").is_visible()
        assert page.locator("#name").input_value() == sample["applicant"]["name"]
        assert page.locator("#nik").input_value() == sample["applicant"]["nik"]
        assert page.locator("#village_code").input_value() == sample["applicant"]["village_code"]
        assert page.locator("#kecamatan").input_value() == sample["applicant"]["village_code"][:8]
        assert page.locator(f"input[name=service][value={sample['service']}]").is_checked()
        assert not page.locator("input[name=consent]").is_checked()  # consent is given again, knowingly
        shot(page, "draft-restored")
        page.close()  # the phone discarded the tab while the camera was open
        page = context.new_page()
        page.goto("/apply")
        assert page.locator("#description").input_value().startswith(sample["description"])
        stored = page.evaluate("localStorage.getItem('sibalang:draft:apply')")
        assert sample["applicant"]["nik"] in stored and "form_token" not in stored
        page.check("input[name=consent]")
        page.get_by_role("button", name="Kirim permohonan").click()
        page.wait_for_url("**/terkirim/*")
        assert page.evaluate("localStorage.getItem('sibalang:draft:apply')") is None
        page.goto("/apply")
        assert page.locator("#name").input_value() == "" and not page.locator("#draft-restored").is_visible()
        # the complaint form keeps its draft the same way
        page.goto("/complaint")
        page.fill("#description", "Antrean di kantor terlalu lama, tiga jam menunggu.")
        page.wait_for_timeout(600)
        page.reload()
        assert page.locator("#description").input_value().startswith("Antrean di kantor")
    finally:
        context.close()


def test_without_javascript_back_after_an_error_and_a_submit_never_resends(browser: Any, live: LiveServer) -> None:
    context = phone_context(browser, live, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/")
        page.goto("/apply")
        sample = fill_apply(page, 2, consent=False)
        page.get_by_role("button", name="Kirim permohonan").click()
        page.wait_for_load_state()
        assert page.url.endswith("/apply") and page.locator("#consent-error").is_visible()
        page.check("input[name=consent]")
        page.get_by_role("button", name="Kirim permohonan").click()
        page.wait_for_url("**/terkirim/*")
        receipt = page.url
        code = page.locator("#tracking-code").inner_text()
        page.go_back()  # to the form as a GET: no "Confirm Form Resubmission"
        assert page.url.endswith("/apply") and page.locator("#recently-sent").is_visible()
        shot(page, "back-after-submit-nojs")
        page.go_back()  # the refused attempt is a GET too
        assert page.url.endswith("/apply") and page.locator("h1").inner_text() == "Ajukan permohonan"
        page.go_forward()
        page.go_forward()
        assert page.url == receipt and page.locator("#tracking-code").inner_text() == code
        page.reload()
        assert page.locator("#tracking-code").inner_text() == code
        assert len(applications_of(live, sample["applicant"]["nik"])) == 1
    finally:
        context.close()


def test_the_issues_walk_on_a_throttled_phone(browser: Any, live: LiveServer, tmp_path: Path) -> None:
    """Apply with a 4 MB camera photo (shrunk, sent on its own with progress), go Back, reload, lose the tab
    and come back: nothing lost, one application; then recover a lost tracking code by SMS."""
    context = phone_context(browser, live)
    try:
        page = context.new_page()
        throttle(page)
        page.goto("/", timeout=SLOW)
        page.get_by_role("link", name="Ajukan").first.click()
        page.wait_for_url("**/apply*", timeout=SLOW)
        sample = fill_apply(page, 3, consent=False)
        nik = sample["applicant"]["nik"]
        page.get_by_role("button", name="Kirim permohonan").click()  # forgot the consent
        page.locator("#consent-error").wait_for(timeout=SLOW)
        assert page.locator("#name").input_value() == sample["applicant"]["name"]
        page.check("input[name=consent]")
        page.set_input_files("#doc_ktp", str(camera_photo(tmp_path / "IMG_20261202_0815.jpg")))
        note = page.locator("#doc_ktp-upload")
        # shrunk, then sent on its own at once (one file at a time, tests/browser/test_staged_uploads.py)
        page.wait_for_function(  # (a function, not an expression: the CSP forbids eval)
            "() => [...document.querySelectorAll('.file-status progress')].some(p => p.value > 0)", timeout=SLOW
        )
        shot(page, "walk-uploading")
        note.filter(has_text="Foto diperkecil").filter(has_text="Terunggah").wait_for(timeout=SLOW)
        shot(page, "walk-photo-shrunk")
        page.get_by_role("button", name="Kirim permohonan").click()
        page.wait_for_url("**/terkirim/*", timeout=SLOW)
        receipt = page.url
        reference = page.locator("#reference").inner_text()
        code = page.locator("#tracking-code").inner_text()
        shot(page, "walk-receipt")
        assert applications_of(live, nik) == [reference]
        with live.app.app_context():
            case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
            sizes = [d.size for d in db.session.scalars(select(Document).where(Document.case_id == case.id))]
            db.session.remove()
        assert sizes and max(sizes) <= 320 * 1024, sizes

        page.go_back(timeout=SLOW)  # the form was replaced in history: Back is the home page
        assert page.locator("h1").inner_text() == "Layanan sosial tanpa harus ke kantor"
        page.go_forward(timeout=SLOW)
        assert page.url == receipt
        page.reload(timeout=SLOW)
        assert page.locator("#tracking-code").inner_text() == code
        page.close()  # the tab is lost

        page = context.new_page()
        throttle(page)
        page.goto("/apply", timeout=SLOW)
        assert page.locator("#recently-sent").is_visible() and page.locator("#name").input_value() == ""
        page.get_by_role("link", name="Lihat tanda terima").click()
        page.wait_for_url(receipt, timeout=SLOW)
        assert page.locator("#tracking-code").inner_text() == code
        assert applications_of(live, nik) == [reference]

        # the code is lost after all (another phone, a cleared browser): NIK + phone → SMS
        page.goto("/kode-hilang", timeout=SLOW)
        page.fill("#nik", nik)
        page.fill("#phone", sample["applicant"]["phone"])
        page.get_by_role("button", name="Kirim kode baru").click()
        page.locator("#recover-sent").wait_for(timeout=SLOW)
        shot(page, "walk-code-recovered")
        with live.app.app_context():
            row = db.session.scalars(
                select(Notification).where(
                    Notification.case_id == case.id, Notification.kind == "tracking_code_reissued"
                )
            ).one()
            text = message_of(db.session, row, "Dinsos Balangan")
            db.session.remove()
        new = re.search(r": ([A-Z0-9]{8})\.", text).group(1)  # type: ignore[union-attr]
        assert new != code
        fresh = browser.new_context(viewport=PHONE, base_url=live.url)
        try:
            other = fresh.new_page()
            other.goto("/track")
            other.fill("#reference", reference)
            other.fill("#tracking_code", new)
            other.get_by_role("button", name="Lihat status").click()
            assert other.locator("h1").inner_text() == f"Permohonan {reference}"
        finally:
            fresh.close()
    finally:
        context.close()


def test_the_app_installs_and_opens_its_shell_offline(browser: Any, live: LiveServer) -> None:
    context = phone_context(browser, live)
    try:
        page = context.new_page()
        page.goto("/")
        assert page.evaluate("navigator.serviceWorker.ready.then(r => r.active.scriptURL)").endswith("/sw.js")
        page.reload()  # now controlled by the worker
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        kept = page.evaluate(
            "caches.keys().then(keys => Promise.all(keys.map(k => caches.open(k).then(c => c.keys()))))"
            ".then(lists => lists.flat().map(r => new URL(r.url).pathname))"  # (static files carry ?v=hash)
        )
        assert "/" in kept and "/offline" in kept and "/static/public.css" in kept
        assert not [p for p in kept if p.startswith(("/inbox", "/api", "/terkirim", "/track/", "/apply"))]
        context.set_offline(True)
        page.reload()
        assert page.locator("h1").inner_text() == "Layanan sosial tanpa harus ke kantor"
        assert page.evaluate("getComputedStyle(document.querySelector('.top')).display") != "inline"  # styled
        shot(page, "offline-home")
        page.goto("/apply")
        assert page.locator("h1").inner_text() == "Tidak ada sambungan internet"
        shot(page, "offline-apply")
        with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
            page.goto("/login")  # staff pages are never served by the worker
        context.set_offline(False)
        page.goto("/poster")
        assert page.locator("#poster-qr svg").is_visible()
        shot(page, "poster")
    finally:
        context.close()
