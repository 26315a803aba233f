"""Pendamping: the directory administrators keep, the public page, and assigning a companion to a case."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.assignment import assign_companion, assigned_companion
from engine.audit import verify_chain
from engine.companions import create_companion, import_companions, list_companions, proposed_companion
from engine.errors import Conflict, Forbidden, InvalidSubmission
from engine.models import Companion, CompanionChange, Notification
from engine.notifications import message_of
from web.demo import load_demo_companions
from web.extensions import db

JUAI = "63.11.01"

TKSK_JUAI = {"name": "Rahmadi", "role": "tksk", "kecamatan_code": JUAI, "phone": "0812-0000-0101"}


def test_an_entry_is_validated_field_by_field(ctx: None, actor: Any, clock: Any) -> None:
    with pytest.raises(InvalidSubmission) as bad:
        create_companion(
            db.session,
            {"name": "", "role": "psm", "kecamatan_code": "63.11.99", "phone": "12345"},
            actor("admin"),
            clock.now,
        )
    assert bad.value.details == {
        "name": "Panjang nama 2–200 karakter.",
        "kecamatan_code": "Kode kecamatan '63.11.99' tidak dikenal.",
        "village_code": "PSM bertugas di satu desa: pilih desanya.",
        "phone": "Nomor telepon tidak valid (contoh: 0812-3456-7890).",
    }
    with pytest.raises(InvalidSubmission) as elsewhere:
        create_companion(
            db.session, {**TKSK_JUAI, "role": "psm", "village_code": "63.11.02.2005"}, actor("admin"), clock.now
        )
    assert elsewhere.value.details == {"village_code": "Desa ini tidak berada di kecamatan yang dipilih."}


def test_only_administrators_keep_the_directory_and_every_change_is_recorded(ctx: None, actor: Any, clock: Any) -> None:
    with pytest.raises(Forbidden):
        create_companion(db.session, TKSK_JUAI, actor("manager"), clock.now)
    companion = create_companion(db.session, TKSK_JUAI, actor("admin"), clock.now)
    assert companion.phone == "+6281200000101"
    db.session.commit()
    changes = db.session.scalars(select(CompanionChange)).all()
    assert [(c.action, c.actor, c.changes["phone"]) for c in changes] == [
        ("created", "admin", [None, "+6281200000101"])
    ]


CSV_OK = (
    "nama,peran,kode_kecamatan,kode_desa,telepon,whatsapp,program,aktif\n"
    "Rahmadi,TKSK,63.11.01,,0812-0000-0101,,Kementerian Sosial,ya\n"
    "Aliansyah,psm,63.11.01,63.11.01.2001,0812 0000 0102,,,\n"
    "Lisa Mahmudah,pendamping_pkh,63.11.06,,+62 812 0000 0999,0812-0000-0998,PKH,ya\n"
)


def test_a_csv_file_is_imported_whole_and_again_updates_by_role_and_phone(ctx: None, actor: Any, clock: Any) -> None:
    result = import_companions(db.session, CSV_OK.encode(), actor("admin"), clock.now)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    db.session.commit()
    changed = CSV_OK.replace("Kementerian Sosial,ya", "Kementerian Sosial,tidak")
    again = import_companions(db.session, changed.encode(), actor("admin"), clock.advance(hours=1))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    db.session.commit()
    rahmadi = db.session.scalars(select(Companion).where(Companion.name == "Rahmadi")).one()
    assert rahmadi.active is False
    actions = [c.action for c in db.session.scalars(select(CompanionChange).order_by(CompanionChange.id))]
    assert actions == ["imported"] * 4
    assert list_companions(db.session, JUAI) == [
        c for c in db.session.scalars(select(Companion)) if c.name == "Aliansyah"
    ]  # the inactive TKSK is not listed


def test_a_csv_file_with_bad_rows_names_each_line_and_imports_nothing(ctx: None, actor: Any, clock: Any) -> None:
    bad = (
        "nama;peran;kode_kecamatan;kode_desa;telepon;aktif\n"
        "Rahmadi;tksk;63.11.01;;0812-0000-0101;ya\n"
        "X;kepala;63.11.01;;0812-0000-0105;ya\n"
        "Mariani;psm;63.11.01;63.11.02.2005;08120000;ya\n"
        "Rahmadi lagi;tksk;63.11.01;;0812 0000 0101;mungkin\n"
    )
    with pytest.raises(InvalidSubmission) as refused:
        import_companions(db.session, bad.encode(), actor("admin"), clock.now)
    assert refused.value.details == [
        "Baris 3: nama: Panjang nama 2–200 karakter.; peran: Peran tidak dikenal.",
        "Baris 4: kode_desa: Desa ini tidak berada di kecamatan yang dipilih.; "
        "telepon: Nomor telepon tidak valid (contoh: 0812-3456-7890).",
        "Baris 5: aktif: Isi ya atau tidak.",
    ]
    db.session.rollback()
    assert db.session.scalars(select(Companion)).all() == []
    with pytest.raises(InvalidSubmission) as header:
        import_companions(db.session, b"name,phone\nA,1\n", actor("admin"), clock.now)
    assert header.value.details == [
        "Baris 1: kolom nama, peran, kode_kecamatan, telepon tidak ada. "
        "Kolom yang dikenal: nama, peran, kode_kecamatan, kode_desa, telepon, whatsapp, program, aktif."
    ]
    with pytest.raises(InvalidSubmission) as twice:
        import_companions(db.session, (CSV_OK + CSV_OK.splitlines()[1] + "\n").encode(), actor("admin"), clock.now)
    assert twice.value.details == ["Baris 5: peran dan telepon yang sama sudah ada di baris 2."]
    with pytest.raises(InvalidSubmission) as binary:
        import_companions(db.session, b"\xff\xfe\x00n", actor("admin"), clock.now)
    assert binary.value.details == ["Berkas bukan teks UTF-8. Simpan ulang sebagai CSV (UTF-8)."]


def test_the_demo_directory_has_a_tksk_in_every_kecamatan(ctx: None, actor: Any) -> None:
    from engine import regions

    load_demo_companions(actor("admin"))
    for kecamatan in regions.kecamatan_list():
        assert [c.role for c in list_companions(db.session, kecamatan.code)].count("tksk") == 1


def test_the_public_page_shows_the_tksk_of_juai_with_call_and_whatsapp_links(app: Any, client: Any) -> None:
    with app.app_context():
        from engine.models import User
        from web.auth import actor_for

        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        load_demo_companions(actor_for(admin))
        db.session.commit()
    page = client.get(f"/pendamping?kecamatan={JUAI}").get_data(as_text=True)
    assert "Rahmadi" in page and "TKSK" in page
    assert 'href="tel:+6281200000101"' in page
    assert 'href="https://wa.me/6281200000101"' in page
    assert "Siti Khadijah" not in page  # Halong's TKSK
    desa = client.get("/pendamping?desa=63.11.01.2001").get_data(as_text=True)
    assert "Rahmadi" in desa and "Aliansyah" in desa and "Mariani" not in desa  # another desa's PSM
    home = client.get("/").get_data(as_text=True)
    assert 'href="/pendamping"' in home


# --- assigning a companion to a case -------------------------------------------------------------


@pytest.fixture
def juai_case(driver: Any, actor: Any, clock: Any) -> Any:
    """A request for a companion from Hamarung, Juai (demo applicant Udin's desa)."""
    load_demo_companions(actor("admin"))
    case = driver().apply(9, service="pendamping")
    return case


def test_a_request_for_a_companion_proposes_the_tksk_of_the_applicants_kecamatan(juai_case: Any) -> None:
    proposed = proposed_companion(db.session, juai_case.case.village_code)
    assert proposed is not None and (proposed.name, proposed.role) == ("Rahmadi", "tksk")


def test_the_manager_assigns_a_companion_audited_and_both_are_told(juai_case: Any, actor: Any, clock: Any) -> None:
    case = juai_case.case
    rahmadi = proposed_companion(db.session, case.village_code)
    assert rahmadi is not None
    event = assign_companion(db.session, case, rahmadi.id, actor("manager"), clock.advance(hours=1), "Mohon kunjungi")
    db.session.commit()
    assert event.kind == "companion_assigned"
    assert event.payload == {"companion_id": rahmadi.id, "name": "Rahmadi", "role": "tksk", "kecamatan_code": JUAI,
                             "note": "Mohon kunjungi"}  # fmt: skip
    assert verify_chain(db.session, case) == []
    assert assigned_companion(db.session, case) == rahmadi
    sent = {n.kind: n for n in db.session.scalars(select(Notification).where(Notification.event_seq == event.seq))}
    assert sent["companion_assigned"].recipient == "+6281200000101"
    assert "Anda ditugaskan sebagai pendamping untuk permohonan" in message_of(
        db.session, sent["companion_assigned"], "Dinsos Balangan"
    )
    assert "Hamarung" in message_of(db.session, sent["companion_assigned"], "Dinsos Balangan")
    assert sent["companion_for_applicant"].recipient == case.person.phone
    assert "Rahmadi (TKSK), telepon 0812-0000-0101" in message_of(
        db.session, sent["companion_for_applicant"], "Dinsos Balangan"
    )


def test_assigning_is_refused_for_other_roles_inactive_companions_and_twice(
    juai_case: Any, actor: Any, clock: Any
) -> None:
    case = juai_case.case
    rahmadi = proposed_companion(db.session, case.village_code)
    assert rahmadi is not None
    with pytest.raises(Forbidden):
        assign_companion(db.session, case, rahmadi.id, actor("kadis"), clock.now)
    assign_companion(db.session, case, rahmadi.id, actor("operator"), clock.now)
    db.session.commit()
    with pytest.raises(Conflict, match="sudah ditugaskan"):
        assign_companion(db.session, case, rahmadi.id, actor("supervisor"), clock.now)
    db.session.rollback()
    rahmadi.active = False
    db.session.commit()
    with pytest.raises(Conflict, match="tidak aktif"):
        assign_companion(db.session, case, rahmadi.id, actor("manager"), clock.now)
    db.session.rollback()
    events_before = case.event_count
    db.session.refresh(case)
    assert case.event_count == events_before  # nothing half-written
