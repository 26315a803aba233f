"""The agency profile: one file an adopting district edits; everything reads its values from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import BASE_DIR, Config
from engine import regions, validation
from engine.agency import ProfileInvalid, load_profile
from tests.conftest import app_on
from web.extensions import db

CONTOH = BASE_DIR / "tests" / "data" / "agency" / "contoh.toml"


def test_the_shipped_profile_is_balangans() -> None:
    profile = Config.AGENCY
    assert profile.regency_code == "63.11"
    assert profile.short_name == "Dinsos Balangan"
    assert profile.bidang["rehsos"] == "Bidang Rehabilitasi Sosial"
    assert profile.series["rekomendasi"].number(7, 2026, 11) == "400.9/007/Dinsos/XI/2026"
    assert profile.signer_of("pemberitahuan").on_behalf_of == "Kepala Dinas Sosial Kabupaten Balangan"
    assert profile.logo_file is not None and profile.logo_file.is_file()


def test_a_second_profile_changes_names_regions_numbers_and_messages(tmp_path: Path) -> None:
    profile = load_profile(CONTOH)
    assert profile.paper == "F4"
    assert profile.series["rekomendasi"].number(12, 2027, 3, "rehsos") == "460/0012/REK-rehsos/2027"
    with app_on(tmp_path, AGENCY=profile) as app:
        assert [k.name for k in regions.kecamatan_list()] == ["Hulu Contoh", "Hilir Contoh"]
        assert regions.village("63.11.06.1019") is None
        with pytest.raises(ValueError, match="tidak ditemukan di Kabupaten Tanjung Contoh"):
            validation.check_village("63.11.06.1019")
        page = app.test_client().get("/apply")
        assert "Dinas Sosial P3A Kabupaten Tanjung Contoh" in page.get_data(as_text=True)
        with app.app_context():
            db.session.remove()
    with app_on(tmp_path / "again"):  # the default profile comes back with the default app
        assert regions.regency().name == "Kabupaten Balangan"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("paper = \"F4\"", "paper = \"Letter\""), "agency.paper must be one of A4, F4"),
        (("pattern = \"460/{seq}/PBT", "pattern = \"460/{nomor}/PBT"), "unknown field(s) nomor"),
        (("pattern = \"460/{seq}/PBT", "pattern = \"460/PBT"), "must contain {seq}"),
        (("signer = \"kabid\"", "signer = \"sekda\""), "signer 'sekda' is not one of the signers"),
        (("region_file = \"wilayah_contoh.csv\"", "region_file = \"nope.csv\""), "nope.csv does not exist"),
        (("[series.pemberitahuan]", "[series.lain]"), "[series] lacks pemberitahuan"),
        (("name = \"Ir. Contoh Saja, M.T.\"", "name = \"\""), "signers.kadis.name is required"),
        (("[agency]", "[agency"), "is not valid TOML"),
    ],
)
def test_a_broken_profile_is_refused_with_the_key_at_fault(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = CONTOH.read_text(encoding="utf-8")
    assert change[0] in text
    broken = tmp_path / "profile.toml"
    broken.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    for name in ("wilayah_contoh.csv", "logo-contoh.svg"):
        (tmp_path / name).write_bytes((CONTOH.parent / name).read_bytes())
    with pytest.raises(ProfileInvalid) as refused:
        load_profile(broken)
    assert message in str(refused.value)


def test_a_region_file_must_be_the_profiles_regency(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the agency profile says 63.11"):
        regions.use_region_file(CONTOH.parent / "wilayah_contoh.csv", "63.11")
    assert regions.regency().code == "63.11"  # unchanged
