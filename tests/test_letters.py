"""The recommendation letter and the rejection notice, issued by the procedure (engine + real PDF)."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from config import BASE_DIR
from engine.audit import case_events, verify_chain
from engine.cases import complete_task
from engine.errors import InvalidSubmission
from engine.issuing import LettersNotConfigured
from engine.models import Letter, Notification
from engine.replay import replay_case
from letters.issue import LetterAlreadyRevoked, letters_of, mask_name, pdf_of, revoke_letter
from letters.pdf import check_signature
from tests.test_rujukan import HAPPY
from web.extensions import db
from web.letters import letter_service

ARTIFACTS = BASE_DIR / "tests" / "artifacts"


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def until(case: Any, last: str) -> Any:
    for name in HAPPY[: HAPPY.index(last) + 1]:
        case.do(name)
    return case


def test_issuing_the_recommendation_numbers_signs_and_stores_one_letter(driver: Any, tmp_path: Path) -> None:
    case = until(driver().apply(), "keputusan_kabid")
    assert letters_of(db.session, case.case) == []
    case.do("terbitkan_surat", isi_rekomendasi="Kursi roda diserahkan melalui Bidang Rehabilitasi Sosial.")
    [letter] = letters_of(db.session, case.case)
    assert (letter.series, letter.seq, letter.number) == ("rekomendasi", 1, "400.9/001/Dinsos/XI/2026")
    assert (letter.status, letter.source, letter.issued_by) == ("valid", "terbitkan_surat", "manager")
    pdf = pdf_of(db.session, letter)
    import hashlib

    assert hashlib.sha256(pdf).hexdigest() == letter.sha256 and len(pdf) == letter.size
    text = pdftotext(pdf, tmp_path)
    # the clock is at 16:00 UTC on 2 November: in Paringin (UTC+8) it is already 3 November
    for expected in (
        "400.9/001/Dinsos/XI/2026",
        "Aminah",
        "Paringin, 3 November 2026",
        "Kursi roda standar dewasa",
        "Kursi roda diserahkan melalui",
        "Drs. H. Ahmad Fauzi",
        letter.verify_token,
        "Tembusan",
    ):
        assert expected in text, expected
    # the audit chain holds the letter right after the task that issued it
    events = case_events(db.session, case.case)
    kinds = [e.kind for e in events]
    issued = events[kinds.index("letter_issued")]
    assert kinds[kinds.index("letter_issued") - 1] == "task_completed"
    assert issued.payload["letter"] == {
        "series": "rekomendasi",
        "number": letter.number,
        "sha256": letter.sha256,
        "verify_token": letter.verify_token,
        "size": letter.size,
        "source": "terbitkan_surat",
    }
    assert verify_chain(db.session, case.case) == []
    case.do("serah_terima")
    assert replay_case(db.session, case.case)["consistent"] is True
    assert pdf_of(db.session, letter) == pdf  # the stored bytes never change


def test_the_signature_validates_and_any_changed_byte_breaks_it(driver: Any) -> None:
    case = until(driver().apply(), "terbitkan_surat")
    [letter] = letters_of(db.session, case.case)
    pdf = pdf_of(db.session, letter)
    key_pair = letter_service().key_pair
    check = check_signature(pdf, [key_pair])
    assert check is not None and check.ok, check
    assert "Dinas Sosial Kabupaten Balangan" in check.signer
    at = pdf.index(b"Rekomendasi")  # the document's title, inside the signed range
    tampered = pdf[:at] + b"Rekomendasu" + pdf[at + 11 :]
    broken = check_signature(tampered, [key_pair])
    assert broken is not None and not broken.intact


def test_the_letter_embeds_its_fonts_and_renders_to_one_page(driver: Any, tmp_path: Path) -> None:
    case = until(driver().apply(index=5), "terbitkan_surat")  # panti_rehab
    [letter] = letters_of(db.session, case.case)
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf_of(db.session, letter))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # the "emb" column
    from pyhanko.pdf_utils.reader import PdfFileReader

    root = PdfFileReader(io.BytesIO(path.read_bytes())).root
    metadata = root["/Metadata"].get_object().data  # archived as PDF/A-2b, with its sRGB output intent
    assert b'pdfaid:part="2"' in metadata and b'pdfaid:conformance="B"' in metadata and "/OutputIntents" in root
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M) and re.search(r"^Page size:.*\(A4\)", info, re.M), info
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-r", "80", "-png", "-singlefile", str(path), str(ARTIFACTS / "letter-panti_rehab")], check=True
    )
    assert (ARTIFACTS / "letter-panti_rehab.png").stat().st_size > 10_000  # looked at by a person: see README


@pytest.mark.parametrize(
    ("steps", "rejecting", "decision", "reason"),
    [
        (0, "verifikasi", {"decision": "ditolak", "kategori_penolakan": "duplikat"}, "Sudah ada permohonan yang sama"),
        (1, "kunjungan", {"decision": "tidak_layak"}, "Keluarga mampu secara ekonomi"),
        (2, "reviu_manager", {"decision": "tolak"}, "Tidak sesuai kriteria program"),
        (5, "keputusan_kabid", {"decision": "tolak", "intervensi": None}, "Kuota kursi roda tahun ini habis"),
    ],
)
def test_every_rejection_ends_with_a_notice_stating_the_reason(
    driver: Any, tmp_path: Path, steps: int, rejecting: str, decision: dict[str, Any], reason: str
) -> None:
    case = driver().apply()
    for name in HAPPY[:steps]:
        case.do(name)
    case.do(rejecting, alasan=reason, **decision)
    assert case.case.status == "rejected"
    [notice] = letters_of(db.session, case.case)
    assert (notice.series, notice.number, notice.source) == (
        "pemberitahuan",
        "400.9/001/Dinsos-PBT/XI/2026",
        case.case.outcome,
    )
    text = " ".join(pdftotext(pdf_of(db.session, notice), tmp_path).split())
    assert reason in text and "Pemberitahuan hasil permohonan" in text and "Hj. Siti Rahmah" in text
    assert "a.n. Kepala Dinas Sosial Kabupaten Balangan" in text
    kinds = [e.kind for e in case_events(db.session, case.case)]
    assert kinds[-2:] == ["case_closed", "letter_issued"]
    assert replay_case(db.session, case.case)["consistent"] is True


def test_numbers_run_on_per_series_and_restart_each_year(driver: Any, clock: Any) -> None:
    first = until(driver().apply(index=0), "terbitkan_surat")
    second = until(driver().apply(index=2), "terbitkan_surat")
    rejected = (
        driver()
        .apply(index=3)
        .do("verifikasi", decision="ditolak", kategori_penolakan="lainnya", alasan="Di luar wilayah")
    )
    clock.advance(days=60)  # into 2027
    third = until(driver().apply(index=6), "terbitkan_surat")
    numbers = [letters_of(db.session, c.case)[0].number for c in (first, second, rejected, third)]
    assert numbers == [
        "400.9/001/Dinsos/XI/2026",
        "400.9/002/Dinsos/XI/2026",
        "400.9/001/Dinsos-PBT/XI/2026",
        "400.9/001/Dinsos/I/2027",
    ]


def test_letter_ready_is_sent_only_once_a_letter_exists(driver: Any, actor: Any, clock: Any) -> None:
    case = until(driver().apply(), "keputusan_kabid")

    def kinds() -> list[str]:
        rows = db.session.scalars(
            select(Notification).where(Notification.case_id == case.case.id).order_by(Notification.id)
        )
        return [n.kind for n in rows]

    assert "letter_ready" not in kinds()
    [task] = case.open_tasks()
    # without a letters service the step refuses, and nothing of it is kept
    with pytest.raises(LettersNotConfigured):
        complete_task(
            db.session,
            task.id,
            actor("manager"),
            {"perihal": "Rekomendasi", "isi_rekomendasi": "Isi surat."},
            clock.now,
        )
    db.session.rollback()
    assert case.step_names() == ["terbitkan_surat"] and "letter_ready" not in kinds()
    assert db.session.scalars(select(Letter)).all() == []
    case.do("terbitkan_surat")
    assert kinds().count("letter_ready") == 1


def test_a_manager_revokes_a_letter_with_a_reason_and_the_chain_records_it(driver: Any, actor: Any, clock: Any) -> None:
    case = until(driver().apply(), "serah_terima")
    [letter] = letters_of(db.session, case.case)
    with pytest.raises(InvalidSubmission):
        revoke_letter(db.session, letter, "  ", actor("manager"), clock.now)
    db.session.rollback()
    revoke_letter(
        db.session, letter, "Nama penerima salah tulis; diganti surat baru.", actor("manager"), clock.advance(days=1)
    )
    db.session.commit()
    db.session.refresh(letter)
    assert (letter.status, letter.revoked_by) == ("revoked", "manager") and letter.revoked_at is not None
    event = case_events(db.session, case.case)[-1]
    assert event.kind == "letter_revoked" and event.payload["reason"].startswith("Nama penerima salah")
    assert verify_chain(db.session, case.case) == []
    with pytest.raises(LetterAlreadyRevoked):
        revoke_letter(db.session, letter, "Sekali lagi dicabut", actor("manager"), clock.now)
    db.session.rollback()
    assert replay_case(db.session, case.case)["consistent"] is True


def test_names_are_partly_masked_for_the_public() -> None:
    assert mask_name("Aminah binti Saleh") == "Ami*** b**** S****"
    assert mask_name("Udin") == "Ud**"
    assert mask_name("") == ""
