"""What a resident reads when a public form field is not right: for an empty field, that it is
needed and what to write; for a wrong one, how to write it. The schemas (engine.intake) are shared
with the API and keep their precise, technical messages; the public pages translate them here."""

from __future__ import annotations

from typing import NamedTuple

from engine.text import N_


class Guide(NamedTuple):
    empty: str  # the field was left empty
    wrong: str | None = None  # too short, too long or not one of the choices; None: keep the schema's


COMMON = {
    "service": Guide(N_("Pilih satu layanan yang Anda butuhkan.")),
    "ppks_category": Guide(
        N_("Pilih golongan penerima yang paling sesuai dengan keadaan orang yang dibantu."),
        N_("Pilih golongan penerima dari daftar."),
    ),
    "nik": Guide(N_("Tulis NIK: 16 angka yang tertera pada KTP atau Kartu Keluarga.")),
    "kk_number": Guide(N_("Tulis nomor Kartu Keluarga: 16 angka di bagian atas kartu.")),
    "name": Guide(
        N_("Tulis nama lengkap seperti pada KTP."),
        N_("Tulis nama lengkap seperti pada KTP (paling sedikit 2 huruf, paling banyak 200)."),
    ),
    "birth_date": Guide(N_("Isi tanggal lahir seperti pada KTP: tanggal, bulan, dan tahun.")),
    "gender": Guide(N_("Pilih jenis kelamin: Laki-laki atau Perempuan."), N_("Pilih Laki-laki atau Perempuan.")),
    "phone": Guide(N_("Tulis nomor HP atau WhatsApp yang aktif, misalnya 0812 3456 7890.")),
    "address": Guide(
        N_("Tulis alamat rumah: jalan atau dusun, RT/RW, dan patokan agar petugas dapat menemukannya."),
        N_("Tulis alamat sedikit lebih lengkap: jalan atau dusun, RT/RW, dan patokan (paling banyak 500 huruf)."),
    ),
    "village_code": Guide(
        N_("Pilih desa atau kelurahan tempat tinggal."), N_("Pilih desa atau kelurahan dari daftar.")
    ),
}

GUIDES: dict[str, dict[str, Guide]] = {
    "apply": {
        **COMMON,
        "description": Guide(
            N_("Tulis apa yang dibutuhkan dan mengapa, misalnya: Ibu saya lumpuh sejak 2019 dan butuh kursi roda."),
            N_(
                "Tulis sedikit lebih lengkap apa yang dibutuhkan dan mengapa (paling sedikit 5 huruf, paling banyak 2000)."
            ),
        ),
    },
    "complaint": {
        **COMMON,
        "category": Guide(N_("Pilih tentang apa aduan Anda."), N_("Pilih salah satu jenis aduan.")),
        "description": Guide(
            N_("Ceritakan apa yang terjadi: di mana, kapan, dan siapa yang terlibat bila tahu."),
            N_("Ceritakan sedikit lebih lengkap apa yang terjadi (paling sedikit 10 huruf, paling banyak 2000)."),
        ),
        "name": Guide("", N_("Nama paling banyak 200 huruf.")),
        "phone": Guide(
            N_("Tulis nomor HP atau WhatsApp yang aktif agar jawaban aduan bisa dikirim, misalnya 0812 3456 7890.")
        ),
    },
}

# the schema messages a resident should never see as they are (length and choice checks)
_TECHNICAL = ("Panjang harus", "Pilihan tidak valid", "Pilih L (laki-laki)", "Wajib diisi", "Harus berupa teks")


# the order of the fields on each form: the error summary lists them as the resident meets them
ORDER = {
    "apply": (
        "service",
        "ppks_category",
        "description",
        "nik",
        "kk_number",
        "name",
        "birth_date",
        "gender",
        "phone",
        "address",
        "village_code",
    ),
    "complaint": ("category", "description", "name", "phone", "village_code"),
}


def resident_messages(form: str, values: dict[str, str], errors: dict[str, str]) -> dict[str, str]:
    """``errors`` (field → schema message) with each message replaced by the resident's version,
    in the order of the form (uploads and consent after the fields)."""
    guides = GUIDES[form]
    rank = {name: i for i, name in enumerate(ORDER[form])}
    answer = {}
    for field in sorted(errors, key=lambda f: (rank.get(f, len(rank) + (f == "consent")), f)):
        message = errors[field]
        guide = guides.get(field)
        if guide is None:
            answer[field] = message
        elif not (values.get(field) or "").strip() and guide.empty:
            answer[field] = guide.empty
        elif guide.wrong and message.startswith(_TECHNICAL):
            answer[field] = guide.wrong
        else:
            answer[field] = message
    return answer
