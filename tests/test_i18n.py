"""Languages: Indonesian by default, English from the Flask-Babel catalogue, codes shown by labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlalchemy import select

from engine.models import Case
from web.demo import _users_by_role, advance, sample_application
from web.extensions import db

from .test_staff_pages import login, text

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "web/translations/en/LC_MESSAGES/messages.po"


def _extracted() -> set[str]:
    """Every marked string of the tree, extracted as `make messages` does (babel.cfg)."""
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={"_": None, "N_": None, "gettext": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_marked_string_has_an_english_translation() -> None:
    with open(CATALOGUE, "rb") as po:
        catalogue = read_po(po)
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(_extracted() - translated)
    assert not missing, f"run `make messages` and translate in {CATALOGUE.relative_to(ROOT)}: {missing[:10]}"


def _visited_case(app: Any, client: Any) -> str:
    answer = client.post("/api/v1/applications", json=sample_application(0))
    reference = answer.get_json()["reference"]
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        advance(case, 2, _users_by_role())  # verification, home visit
        db.session.commit()
    return reference


def test_the_case_page_shows_labels_rupiah_and_dates_never_raw_codes(app: Any, client: Any) -> None:
    reference = _visited_case(app, client)
    login(client, "manager")
    page = text(client.get(f"/cases/{reference}"))
    assert "Penyandang disabilitas" in page and "Rp800.000" in page and "20 November 2026" in page
    for raw in ("penyandang_disabilitas", "800000", "2026-11-20", "applicant (applicant)", "(supervisor)"):
        assert raw not in page, raw
    assert "Kunjungan rumah" in page and "Supervisor" in page


def test_english_covers_forms_statuses_history_and_public_pages(app: Any, client: Any) -> None:
    reference = _visited_case(app, client)
    client.set_cookie("lang", "en")
    login(client, "manager")
    page = text(client.get(f"/cases/{reference}"))
    assert 'lang="en"' in page and "In progress" in page and "Home visit" in page
    assert "Person with a disability" in page and "Household size" in page and "November 20, 2026" in page
    assert "IDR800,000" in page and "Kunjungan rumah" not in page
    apply = text(client.get("/apply"))
    assert "Send application" in apply and "Full name" in apply and "Assistive devices" in apply
    assert "Kirim permohonan" not in apply


def test_a_refused_document_on_the_english_form_is_explained_in_english(app: Any, client: Any) -> None:
    import io

    from .test_documents import PDF
    from .test_public_pages import apply_form

    app.config["MAX_DOCUMENT_BYTES"] = 100 * 1024  # (a 5 MB body would make the test client spool it to a file)
    client.set_cookie("lang", "en")
    form = apply_form(0, doc_ktp=(io.BytesIO(PDF + b"x" * (100 * 1024)), "ktp.pdf"))
    page = client.post("/apply", data=form, content_type="multipart/form-data", follow_redirects=True)
    body = text(page)
    assert page.status_code == 422 and "Files may be at most 100 KB." in body and "Ukuran berkas" not in body
