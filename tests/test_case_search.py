"""Finding cases: open and closed, by reference, name, NIK or phone; an overview; duplicates flagged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.models import AccessLog, Case
from web.extensions import db

from .test_disclosure import PERSON, _advance, _submit
from .test_staff_pages import login, open_task, text


def test_a_closed_case_is_found_by_nik_phone_name_or_reference(app: Any, client: Any) -> None:
    closed = _submit(client)
    _advance(app, closed, 8)  # the whole referral: the case is completed
    other = _submit(client, 1)
    login(client, "operator")
    for term in (PERSON["nik"], PERSON["phone"], PERSON["name"].split()[0].lower(), closed):
        page = text(client.get("/cases", query_string={"q": term}, follow_redirects=True))
        assert closed in page and other not in page, term
        rows = page[page.index("<tbody>") : page.index("</tbody>")]
        assert PERSON["nik"] not in rows and PERSON["nik"][:4] + "********" + PERSON["nik"][-4:] in rows
    assert "Selesai" in text(client.get("/cases", query_string={"q": closed}))
    done = text(client.get("/cases", query_string={"status": "completed"}))
    assert closed in done and other not in done
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == closed)).one()
        assert db.session.scalars(
            select(AccessLog).where(AccessLog.case_id == case.id, AccessLog.action == "list")
        ).first()


def test_filters_by_service_desa_and_period_and_a_kabid_sees_only_their_bidang(app: Any, client: Any) -> None:
    first, second = _submit(client, 0), _submit(client, 1)
    login(client, "manager")
    page = text(client.get("/cases", query_string={"from": "2000-01-01", "to": "2000-01-31"}))
    assert first not in page and "Tidak ada kasus yang cocok." in page
    with app.app_context():
        village = db.session.scalars(select(Case.village_code).where(Case.reference == first)).one()
        service = db.session.scalars(select(Case.service).where(Case.reference == first)).one()
    assert first in text(client.get("/cases", query_string={"desa": village, "service": service}))
    kabid = app.test_client()
    login(kabid, "kabid_linjamsos")
    page = text(kabid.get("/cases"))
    assert first not in page and second not in page  # not routed to their bidang (yet)


def test_the_overview_counts_per_status_stage_service_and_kecamatan_with_charts(app: Any, client: Any) -> None:
    _submit(client, 0)
    _submit(client, 1)
    closed = _submit(client, 2)
    _advance(app, closed, 8)
    login(client, "manager")
    page = text(client.get("/cases/overview"))
    assert page.count("<svg") == 2 and "Per kecamatan" in page and "Kasus berjalan per tahap" in page
    assert "Verifikasi kelengkapan" in page and "3 kasus" in page
    assert '<td class="num">2</td>' in page  # two open cases


def test_duplicates_are_flagged_on_the_operators_task_page_and_on_the_case_page(app: Any, client: Any) -> None:
    first = _submit(client)
    second = _submit(client)  # the same NIK applies again
    login(client, "operator")
    page = text(client.get(f"/tasks/{open_task(app, second).id}"))
    assert "Ada permohonan lain yang masih berjalan untuk NIK ini" in page
    assert f'href="/cases/{first}"' in page
    _advance(app, first, 8)
    page = text(client.get(f"/cases/{first}"))
    assert "Kasus lain dengan NIK yang sama" in page and f'href="/cases/{second}"' in page
