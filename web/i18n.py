"""A small gettext-style layer: Bahasa Indonesia by default, English selectable; Indonesian dates.

UI strings are written in Indonesian in templates and code; ``EN`` maps them to English. A string
missing from ``EN`` shows in Indonesian, which is the safe fallback for staff in Balangan.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
COOKIE = "lang"

MONTHS = {
    "id": [
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ],
    "en": [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ],
}  # fmt: skip
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}

EN: dict[str, str] = {
    "Kotak masuk": "Inbox",
    "Masuk": "Log in",
    "Keluar": "Log out",
    "Nama pengguna": "Username",
    "Kata sandi": "Password",
    "Ganti kata sandi": "Change password",
    "Kata sandi lama": "Current password",
    "Kata sandi baru": "New password",
    "Ulangi kata sandi baru": "Repeat new password",
    "Simpan": "Save",
    "Peran": "Roles",
    "Bahasa": "Language",
    "Tersedia": "Available",
    "Tugas saya": "My tasks",
    "Ambil tugas berikutnya": "Take next task",
    "Ambil": "Claim",
    "Buka": "Open",
    "Lepas": "Release",
    "Selesaikan tugas": "Complete task",
    "Nomor kasus": "Case reference",
    "Pemohon": "Applicant",
    "Layanan": "Service",
    "Semua layanan": "All services",
    "Kecamatan": "Kecamatan",
    "Semua kecamatan": "All kecamatan",
    "Tahap": "Step",
    "Semua tahap": "All steps",
    "Menunggu sejak": "Waiting since",
    "Batas waktu": "Due",
    "Terlambat": "Overdue",
    "Hanya yang terlambat": "Overdue only",
    "Cari nomor, nama atau NIK": "Search reference, name or NIK",
    "Cari": "Search",
    "Urutkan": "Sort",
    "Terlama dulu": "Oldest first",
    "Terbaru dulu": "Newest first",
    "Batas waktu terdekat": "Due soonest",
    "Nomor kasus (A–Z)": "Reference (A–Z)",
    "Tidak ada tugas.": "No tasks.",
    "Halaman": "Page",
    "Sebelumnya": "Previous",
    "Berikutnya": "Next",
    "dari": "of",
    "tugas": "tasks",
    "Ringkasan kasus": "Case summary",
    "Dokumen pemohon": "Applicant's documents",
    "Belum ada dokumen.": "No documents yet.",
    "Keputusan sebelumnya": "Earlier decisions",
    "Belum ada keputusan.": "No decisions yet.",
    "Formulir": "Form",
    "wajib": "required",
    "Wajib diisi bila": "Required when",
    "Tugas ini tanpa formulir.": "This task has no form.",
    "Status": "Status",
    "Riwayat": "Timeline",
    "Tugas aktif": "Open tasks",
    "Tidak ada tugas aktif.": "No open tasks.",
    "Komentar internal": "Internal comments",
    "Tambah komentar": "Add comment",
    "Kirim komentar": "Post comment",
    "Diagram proses": "Process diagram",
    "Selesai": "Done",
    "Sedang berjalan": "In progress",
    "Belum diambil": "Not claimed",
    "Diambil oleh": "Claimed by",
    "Desa": "Desa",
    "Uraian": "Description",
    "Kategori PPKS": "PPKS category",
    "Bidang": "Bidang",
    "Versi prosedur": "Procedure version",
    "Peringatan NIK": "NIK warnings",
    "Lihat kasus": "View case",
    "Perbaiki isian yang ditandai.": "Please correct the marked fields.",
    "Tugas": "Task",
    "Oleh": "By",
    "Waktu": "When",
    "Kejadian": "Event",
    "Memuat diagram…": "Loading diagram…",
    "Diagram tidak dapat dimuat.": "The diagram could not be loaded.",
    "Ya": "Yes",
    "Tidak": "No",
    "— pilih —": "— choose —",
    "Menu pengguna": "User menu",
    "Langsung ke isi": "Skip to content",
    "Maaf": "Sorry",
    "Kembali ke kotak masuk": "Back to the inbox",
    "Tugas ini sedang dikerjakan oleh": "This task is being worked on by",
    "Tugas ini sudah tidak aktif.": "This task is no longer open.",
    "Ambil tugas ini agar tidak dikerjakan orang lain.": "Claim this task so nobody else works on it.",
    "Tampilkan": "Show",
    "diperbarui otomatis": "refreshes automatically",
}

EVENT_TEXT = {
    "case_started": "Kasus dimulai",
    "task_claimed": "Tugas diambil",
    "task_released": "Tugas dilepas",
    "task_completed": "Tugas diselesaikan",
    "message_received": "Pemohon mengirim kelengkapan",
    "timer_fired": "Batas waktu tercapai",
    "case_closed": "Kasus ditutup",
    "comment": "Komentar",
    "letter_issued": "Surat diterbitkan",
    "document_added": "Dokumen ditambahkan",
}
EN.update(
    {
        "Kasus dimulai": "Case started",
        "Tugas diambil": "Task claimed",
        "Tugas dilepas": "Task released",
        "Tugas diselesaikan": "Task completed",
        "Pemohon mengirim kelengkapan": "Applicant resubmitted",
        "Batas waktu tercapai": "Timer fired",
        "Kasus ditutup": "Case closed",
        "Komentar": "Comment",
        "Surat diterbitkan": "Letter issued",
        "Dokumen ditambahkan": "Document added",
        "Sedang diproses": "In progress",
        "Ditolak": "Rejected",
        "Kedaluwarsa": "Expired",
    }
)


def current_language() -> str:
    lang = request.cookies.get(COOKIE, "id") if request else "id"
    return lang if lang in LANGUAGES else "id"


def gettext(text: str, **values: Any) -> str:
    """Translate ``text`` (Indonesian) to the request's language, then fill ``%(name)s`` values."""
    translated = EN.get(text, text) if current_language() == "en" else text
    return translated % values if values else translated


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def format_datetime(moment: datetime | None, with_time: bool = True) -> str:
    """``28 November 2026 09.15 WITA`` in the agency's time zone (``09:15`` in English)."""
    if moment is None:
        return "–"
    zone_name = current_app.config.get("TIMEZONE", "Asia/Makassar")
    local = moment.astimezone(_zone(zone_name))
    lang = current_language()
    text = f"{local.day} {MONTHS[lang][local.month - 1]} {local.year}"
    if not with_time:
        return text
    sep = "." if lang == "id" else ":"
    return f"{text} {local.hour:02d}{sep}{local.minute:02d} {ZONE_NAMES.get(zone_name, local.tzname() or '')}"


def format_date(value: date | str | None) -> str:
    """A calendar date (``2026-11-20``) as ``20 November 2026``."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return f"{value.day} {MONTHS[current_language()][value.month - 1]} {value.year}"


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(_=gettext, LANGUAGES=LANGUAGES, current_language=current_language)
    app.jinja_env.filters.update(datetime=format_datetime, date=format_date)
