"""JSON-Schema forms on HTML: which widget each property gets, and posted values back to JSON."""

from __future__ import annotations

import json

from werkzeug.datastructures import MultiDict

from config import BASE_DIR
from web.staff.forms import build_fields, describe, parse_submission

FORMS = BASE_DIR / "bpmn" / "forms"


def form(name: str) -> dict:
    return json.loads((FORMS / f"{name}.json").read_text())


def test_each_property_gets_the_widget_its_schema_asks_for() -> None:
    fields = {f.name: f for f in build_fields(form("verifikasi"), {})}
    assert fields["status_dtsen"].widget == "radio" and fields["status_dtsen"].required
    assert fields["desil"].widget == "number" and fields["desil"].attrs["min"] == 1
    assert fields["nik_kk_sesuai"].widget == "checkbox"
    assert fields["dokumen_kurang"].widget == "checkboxes"
    assert ("kk", "Kartu Keluarga (KK)") in fields["dokumen_kurang"].options
    assert fields["catatan"].widget == "textarea"
    assert fields["alasan"].required_when == ["Hasil verifikasi = Ditolak"]
    kunjungan = {f.name: f for f in build_fields(form("kunjungan"), {})}
    assert kunjungan["tanggal_kunjungan"].widget == "date"
    assert {f.widget for f in build_fields(form("triase"), {}) if f.name == "kategori"} == {"select"}


def test_schema_defaults_and_task_defaults_prefill_the_form() -> None:
    fields = {f.name: f for f in build_fields(form("terbitkan_surat"), {"isi_rekomendasi": "Kursi roda"})}
    assert fields["perihal"].value == "Rekomendasi Layanan Sosial"
    assert fields["sifat"].value == "biasa"
    assert fields["isi_rekomendasi"].value == "Kursi roda"


def test_posted_values_become_json_types_and_empty_optional_fields_are_left_out() -> None:
    posted = MultiDict(
        [
            ("tanggal_kunjungan", "2026-11-20"),
            ("jumlah_anggota_keluarga", " 4 "),
            ("penghasilan_bulanan", "800.000"),
            ("kondisi_rumah", "kurang_layak"),
            ("rekomendasi", "   "),
            ("unknown", "ignored"),
        ]
    )
    data = parse_submission(form("kunjungan"), posted)
    assert data == {
        "tanggal_kunjungan": "2026-11-20",
        "kondisi_rumah": "kurang_layak",
        "jumlah_anggota_keluarga": 4,
        "penghasilan_bulanan": 800000,
    }
    checks = parse_submission(form("verifikasi"), MultiDict([("dokumen_kurang", "ktp"), ("dokumen_kurang", "kk")]))
    assert checks == {"nik_kk_sesuai": False, "dokumen_kurang": ["ktp", "kk"]}
    assert parse_submission(form("kunjungan"), MultiDict([("jumlah_anggota_keluarga", "empat")])) == {
        "jumlah_anggota_keluarga": "empat"
    }


def test_submitted_data_reads_back_with_titles_and_option_names() -> None:
    lines = describe(form("verifikasi"), {"decision": "lengkap", "nik_kk_sesuai": True, "dokumen_kurang": ["ktp"]})
    assert lines == [
        ("Hasil verifikasi", "Lengkap, lanjut ke kunjungan rumah"),
        ("NIK dan KK sesuai dokumen", "Ya"),
        ("Dokumen yang kurang", "KTP"),
    ]
