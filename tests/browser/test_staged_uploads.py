"""One file at a time on a throttled 360-px phone (issue 12, item 5): each file goes up on its own
as soon as it is chosen, with its own progress bar; a dropped connection fails that one file,
which is retried while the other files and the typed answers stay; the form then sends the ids
and the case holds every file. Without JavaScript the form still sends its files itself."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from engine.models import Case, Document, StagedUpload
from web.extensions import db

from .conftest import LiveServer
from .test_field_uploads import camera_photo, throttle
from .test_resident_journey import SLOW, applications_of, fill_apply, phone_context, shot

pytestmark = pytest.mark.browser


def small_scan(path: Path) -> Path:
    """A KK scan as a phone would send it after shrinking: a small PNG."""
    image = Image.new("RGB", (400, 300), (240, 240, 230))
    for x in range(0, 400, 8):
        image.putpixel((x, 150), (0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def documents_of(live: LiveServer, reference: str) -> dict[str, int]:
    with live.app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        rows = {d.kind: d.size for d in db.session.scalars(select(Document).where(Document.case_id == case.id))}
        staged = len(list(db.session.scalars(select(StagedUpload))))
        db.session.remove()
    return {**rows, "(staged)": staged}


def test_a_dropped_file_is_retried_alone_and_the_case_gets_every_file(
    browser: Any, live: LiveServer, tmp_path: Path
) -> None:
    context = phone_context(browser, live)
    try:
        page = context.new_page()
        tries: list[str] = []

        def drop_first_kk(route: Any) -> None:
            body = route.request.post_data_buffer or b""
            kind = "kk" if b'name="kind"\r\n\r\nkk\r\n' in body else "other"
            tries.append(kind)
            if kind == "kk" and tries.count("kk") == 1:
                route.abort("connectionreset")  # the connection drops while this one file goes up
                return
            route.continue_()

        page.route("**/unggahan", drop_first_kk)
        throttle(page)
        page.goto("/apply", timeout=SLOW)
        sample = fill_apply(page, 4)
        page.set_input_files("#doc_ktp", str(camera_photo(tmp_path / "IMG_20261202_0901.jpg")))
        ktp = page.locator("#doc_ktp-upload")
        ktp.filter(has_text="Mengunggah").wait_for(timeout=SLOW)  # shrunk, then sent on its own
        page.wait_for_function(
            "() => [...document.querySelectorAll('.file-status progress')].some(p => p.value > 0)", timeout=SLOW
        )
        shot(page, "staged-progress")
        page.set_input_files("#doc_kk", str(small_scan(tmp_path / "kk.png")))
        kk = page.locator("#doc_kk-upload")
        kk.filter(has_text="gagal terunggah").wait_for(timeout=SLOW)
        retry = page.locator("#doc_kk-upload + .file-status .retry")
        assert retry.is_visible()
        ktp.filter(has_text="Terunggah").wait_for(timeout=SLOW)  # the other file went on
        assert page.locator("#name").input_value() == sample["applicant"]["name"]  # the answers stay
        assert page.locator("#doc_ktp-upload + .file-status .retry").is_hidden()
        kk.scroll_into_view_if_needed()
        shot(page, "staged-failed")

        # sending now would lose the KK: the page says so and points at its retry button
        page.get_by_role("button", name="Kirim permohonan").click()
        page.locator(".upload-progress span").filter(has_text="belum terunggah").wait_for(timeout=SLOW)
        assert page.evaluate("document.activeElement.classList.contains('retry')")
        assert applications_of(live, sample["applicant"]["nik"]) == []

        retry.click()
        kk.filter(has_text="Terunggah").wait_for(timeout=SLOW)
        assert retry.is_hidden() and tries.count("kk") == 2
        # an uploaded file's field still shows the file (not "no file chosen" beside "uploaded")
        # but is no longer a field of the form: only its staged id is sent
        for field in ("#doc_ktp", "#doc_kk"):
            shown = page.evaluate(
                f"[document.querySelector('{field}').files.length, document.querySelector('{field}').name]"
            )
            assert shown == [1, ""], (field, shown)
        shot(page, "staged-retried")
        page.get_by_role("button", name="Kirim permohonan").click()
        page.wait_for_url("**/terkirim/*", timeout=SLOW)
        reference = page.locator("#reference").inner_text()
        shot(page, "staged-receipt")
        assert applications_of(live, sample["applicant"]["nik"]) == [reference]
        stored = documents_of(live, reference)
        assert set(stored) == {"ktp", "kk", "(staged)"} and stored["(staged)"] == 0, stored
        assert stored["ktp"] <= 320 * 1024, stored  # shrunk in the browser, as before
        # each file went up on its own: the photo once, the KK twice (dropped, then retried)
        assert tries.count("other") == 1
    finally:
        context.close()


def test_a_reload_keeps_the_files_already_uploaded(browser: Any, live: LiveServer, tmp_path: Path) -> None:
    context = phone_context(browser, live)
    try:
        page = context.new_page()
        page.goto("/complaint")
        page.set_input_files("#doc_lainnya", str(small_scan(tmp_path / "bukti.png")))
        page.locator("#doc_lainnya-upload").filter(has_text="Terunggah").wait_for()
        page.reload()  # the phone discarded the tab while the camera was open
        note = page.locator("#doc_lainnya-upload")
        assert "Sudah terunggah: bukti.png" in note.inner_text()
        page.get_by_role("button", name="Hapus berkas ini").click()
        note.filter(has_text="Berkas dihapus").wait_for()
        assert page.locator("input[name=staged_lainnya]").count() == 0
        # chosen, uploaded and removed again: the field is empty and a field of the form again
        page.set_input_files("#doc_lainnya", str(small_scan(tmp_path / "bukti2.png")))
        note.filter(has_text="Terunggah").wait_for()
        assert page.evaluate("document.querySelector('#doc_lainnya').name") == ""
        page.get_by_role("button", name="Hapus berkas ini").click()
        note.filter(has_text="Berkas dihapus").wait_for()
        state = page.evaluate(
            "[document.querySelector('#doc_lainnya').files.length, document.querySelector('#doc_lainnya').name]"
        )
        assert state == [0, "doc_lainnya"], state
    finally:
        context.close()


def test_without_javascript_the_form_sends_its_files_itself(browser: Any, live: LiveServer, tmp_path: Path) -> None:
    context = phone_context(browser, live, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/apply")
        sample = fill_apply(page, 5)
        page.set_input_files("#doc_kk", str(small_scan(tmp_path / "kk.png")))
        page.get_by_role("button", name="Kirim permohonan").click()
        page.wait_for_url("**/terkirim/*")
        reference = page.locator("#reference").inner_text()
        assert applications_of(live, sample["applicant"]["nik"]) == [reference]
        assert "kk" in documents_of(live, reference)
    finally:
        context.close()
