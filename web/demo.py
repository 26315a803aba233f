"""Demo users and cases for development (``make run``); never loaded in production."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import select

from engine import intake
from engine.cases import complete_task, ready_user_tasks, restore_workflow
from engine.clock import utcnow
from engine.models import Case, HumanTask, User

from .auth import actor_for, create_user, verify_password
from .extensions import db
from .letters import letter_service

DEMO_USERS = [
    ("operator", "Siti Rahmah (Operator)", ["operator"], None),
    ("supervisor", "Ahmad Fauzi (Supervisor)", ["supervisor"], None),
    ("manager", "Rina Kartika (Manajer SLRT)", ["manager"], None),
    ("kadis", "H. Muhammad Noor (Kepala Dinas)", ["kadis"], None),
    ("kabid_rehsos", "Dewi Lestari (Kabid Rehsos)", ["kabid"], "rehsos"),
    ("kabid_linjamsos", "Budi Santoso (Kabid Linjamsos)", ["kabid"], "linjamsos"),
    ("kabid_dayasos", "Yusuf Hidayat (Kabid Dayasos)", ["kabid"], "dayasos"),
    ("front_office", "Nur Aini (Front Office)", ["front_office"], None),
    ("admin", "Administrator Sistem", ["admin"], None),
    ("auditor", "Inspektorat (Auditor)", ["auditor"], None),
]


def active_demo_logins(session: Any, password: str) -> list[str]:
    """The demo usernames that are active and still take the demo password (production refuses them)."""
    names = [username for username, *_ in DEMO_USERS]
    users = session.scalars(select(User).where(User.username.in_(names), User.active.is_(True))).all()
    return sorted(user.username for user in users if verify_password(user, password))


def disable_demo_logins(session: Any, password: str, now: Any) -> list[str]:
    """Deactivate the demo accounts that still take the demo password (audited; their tokens end)."""
    from engine.audit import Actor
    from engine.users import update_staff_user

    disabled = active_demo_logins(session, password)
    config = current_app.config
    for username in disabled:
        user = session.scalars(select(User).where(User.username == username)).one()
        values = {"roles": list(user.roles or []), "bidang": user.bidang, "active": False, "full_name": user.full_name}
        update_staff_user(
            session, user, values, Actor("cli", ("admin",)), now, config["STAFF_ROLES"], config["AGENCY"].bidang
        )
    return disabled


# Valid submissions for every user task of the bundled procedures, by task name.
SAMPLE_DATA: dict[str, dict[str, Any]] = {
    "cek_dtsen": {"status_dtsen": "terdaftar"},  # the step an administrator adds in the editor's walk-through
    "verifikasi": {"status_dtsen": "terdaftar", "desil": 2, "nik_kk_sesuai": True, "decision": "lengkap"},
    "kunjungan": {
        "tanggal_kunjungan": "2026-11-20",
        "kondisi_rumah": "kurang_layak",
        "status_tempat_tinggal": "milik_sendiri",
        "jumlah_anggota_keluarga": 4,
        "penghasilan_bulanan": 800000,
        "kondisi_kesehatan": "Lumpuh kedua kaki sejak 2019",
        "kebutuhan": "Kursi roda standar",
        "decision": "layak",
    },
    "reviu_manager": {"decision": "setuju", "catatan": "Sesuai hasil kunjungan"},
    "mengetahui_kadis": {"decision": "mengetahui"},
    "teruskan_kabid": {"bidang": "rehsos"},
    "keputusan_kabid": {"decision": "setuju", "intervensi": "Kursi roda standar dewasa"},
    "terbitkan_surat": {
        "perihal": "Rekomendasi bantuan alat bantu",
        "isi_rekomendasi": "Direkomendasikan menerima kursi roda.",
    },
    "serah_terima": {
        "tanggal_serah": "2026-11-27",
        "diterima_oleh": "Pemohon",
        "hubungan": "pemohon_sendiri",
        "cara": "langsung",
    },
    "triase": {
        "decision": "teruskan",
        "kategori": "bansos_tidak_tepat_sasaran",
        "urgensi": "biasa",
        "bidang": "linjamsos",
    },
    "tindak_lanjut": {"tindakan": "Verifikasi lapangan penerima", "tanggapan": "Data penerima diperbarui"},
    "eskalasi": {"catatan": "Mohon segera ditindaklanjuti"},
    "verifikasi_aduan": {"decision": "terima"},
    "balas_pengadu": {"balasan": "Terima kasih, aduan Anda telah ditindaklanjuti."},
}

_PEOPLE = [
    ("Aminah", "P", "1952-03-14", "63.11.06.1019", "alat_bantu", "penyandang_disabilitas"),
    ("Rusdi", "L", "1948-07-02", "63.11.01.2001", "sandang", "lansia_terlantar"),
    ("Salmah", "P", "1985-11-23", "63.11.02.2001", "slrt", "fakir_miskin"),
    ("Jumberi", "L", "1979-01-30", "63.11.03.2004", "berdaya", "fakir_miskin"),
    ("Masitah", "P", "1990-05-05", "63.11.04.2001", "pendamping", "perempuan_rawan_sosial_ekonomi"),
    ("Ahmad Rifai", "L", "2012-09-09", "63.11.05.2001", "panti_rehab", "anak_terlantar"),
    ("Hj. Fatimah", "P", "1944-12-12", "63.11.06.1019", "alat_bantu", "lansia_terlantar"),
    ("Saberi", "L", "1970-04-18", "63.11.07.1001", "slrt", "fakir_miskin"),
    ("Norhayati", "P", "1995-08-08", "63.11.08.2001", "sandang", "penyandang_disabilitas"),
    ("Udin", "L", "1966-06-16", "63.11.01.2002", "alat_bantu", "penyandang_disabilitas"),
]

# How far along the procedure each demo case goes (number of tasks completed).
_PROGRESS = [0, 1, 2, 5, 3, 5, 4, 5, 7, 8]


def nik_for(birth: date, gender: str, serial: int, region: str = "631106") -> str:
    day = birth.day + (40 if gender == "P" else 0)
    return f"{region}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def sample_application(index: int = 0) -> dict[str, Any]:
    name, gender, born, village, service, category = _PEOPLE[index % len(_PEOPLE)]
    birth = date.fromisoformat(born)
    return {
        "service": service,
        "ppks_category": category,
        "description": f"Permohonan {service.replace('_', ' ')} untuk {name}.",
        "applicant": {
            "nik": nik_for(birth, gender, index + 1),
            "kk_number": f"6311060101{index + 1:06d}",
            "name": name,
            "birth_date": born,
            "gender": gender,
            "phone": f"0812345678{index:02d}",
            "address": f"Jl. Demo RT {index + 1:02d}",
            "village_code": village,
        },
    }


def _users_by_role() -> dict[str, User]:
    users = {}
    for user in db.session.scalars(select(User)):
        for role in user.roles:
            users.setdefault(role if role != "kabid" else f"kabid:{user.bidang}", user)
    return users


def advance(case: Case, steps: int, users: dict[str, User]) -> None:
    """Complete ``steps`` tasks of a case with the sample data (demo and tests)."""
    for _ in range(steps):
        loaded, workflow = restore_workflow(case)
        ready = ready_user_tasks(workflow)
        if not ready:
            return
        task = ready[0]
        row = db.session.get(HumanTask, str(task.id))
        assert row is not None
        key = f"kabid:{row.bidang}" if row.role == "kabid" else row.role
        data = dict(SAMPLE_DATA[task.task_spec.name])
        if task.task_spec.name == "teruskan_kabid":
            data["bidang"] = task.data.get("bidang_usulan", "rehsos")
        complete_task(db.session, row.id, actor_for(users[key]), data, utcnow(), letters=letter_service())


# Made-up companions, one TKSK per kecamatan and a PSM for two desa of each. The phone numbers are
# demo numbers (0812-0000-…): valid in form, meant for no one.
_TKSK = {
    "63.11.01": "Rahmadi",
    "63.11.02": "Siti Khadijah",
    "63.11.03": "Muhammad Arsyad",
    "63.11.04": "Hj. Rusmilawati",
    "63.11.05": "Ahmad Zaini",
    "63.11.06": "Noor Hasanah",
    "63.11.07": "Syahrani",
    "63.11.08": "Fitriani",
}
_PSM = ("Aliansyah", "Mariani", "Jailani", "Rabiatul Adawiyah", "Hamdani", "Norliani", "Saipul Anwar", "Hairiyah")


def demo_companions() -> list[dict[str, Any]]:
    """The demo directory: every kecamatan of the regency has its TKSK."""
    from engine import regions

    entries = []
    for k, kecamatan in enumerate(regions.kecamatan_list()):
        code = kecamatan.code
        entries.append(
            {
                "name": _TKSK.get(code, f"TKSK {kecamatan.name}"),
                "role": "tksk",
                "kecamatan_code": code,
                "phone": f"0812-0000-{k + 1:02d}01",
                "programme": "Kementerian Sosial",
            }
        )
        for d, village in enumerate(sorted(regions.desa_list(code), key=lambda r: r.code)[:2]):
            entries.append(
                {
                    "name": _PSM[(2 * k + d) % len(_PSM)],
                    "role": "psm",
                    "kecamatan_code": code,
                    "village_code": village.code,
                    "phone": f"0812-0000-{k + 1:02d}{d + 2:02d}",
                }
            )
    entries.append(
        {
            "name": "Lisa Mahmudah",
            "role": "pendamping_pkh",
            "kecamatan_code": "63.11.06",
            "phone": "0812-0000-0999",
            "whatsapp": "0812-0000-0998",
            "programme": "PKH",
        }
    )
    return entries


def load_demo_companions(actor: Any) -> None:
    from engine.companions import create_companion

    for entry in demo_companions():
        create_companion(db.session, entry, actor, utcnow())


def load_demo(password: str, with_cases: bool = True) -> bool:
    """Create the demo users and cases when the database has no users; return whether it did."""
    if db.session.scalars(select(User).limit(1)).first() is not None:
        return False
    for username, full_name, roles, bidang in DEMO_USERS:
        create_user(username, password, full_name, roles, bidang)
    users = _users_by_role()
    load_demo_companions(actor_for(users["admin"]))
    if not with_cases:
        return True
    front = actor_for(users["front_office"])
    timeout = current_app.config["RESUBMISSION_TIMEOUT"]
    for index, steps in enumerate(_PROGRESS):
        data = intake.ApplicationSchema().load(sample_application(index))
        case, _code, _warnings = intake.submit_application(db.session, data, front, utcnow(), timeout)
        advance(case, steps, users)
    for index in range(2):
        complaint = {
            "category": "bansos_tidak_tepat_sasaran" if index == 0 else "pelayanan",
            "description": "Bantuan sembako di desa kami diterima orang yang mampu."
            if index == 0
            else "Antrian layanan terlalu lama.",
            "phone": "081298765432",
            "village_code": "63.11.06.1019",
            "name": "Warga Paringin" if index == 0 else "",
        }
        case, _code = intake.submit_complaint(db.session, intake.ComplaintSchema().load(complaint), front, utcnow())
        advance(case, index, users)
    return True
