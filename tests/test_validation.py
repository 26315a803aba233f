"""NIK, KK, phone and desa checks (PROCEDURE.md, Identity numbers)."""

from __future__ import annotations

from datetime import date

import pytest

from engine import validation


def test_a_womans_nik_decodes_day_plus_forty() -> None:
    info = validation.parse_nik("6311065403520001", today=date(2026, 11, 28))
    assert info.birth_date == date(1952, 3, 14) and info.gender == "P"


def test_an_old_hulu_sungai_utara_nik_is_accepted() -> None:
    assert validation.parse_nik("6308011501800002").gender == "L"


@pytest.mark.parametrize(
    ("nik", "message"),
    [
        ("631106540352000", "16 digit"),
        ("63110654035200a1", "16 digit"),
        ("9911065403520001", "provinsi"),
        ("6311063102520001", "Tanggal"),
        ("6311067102520001", "Tanggal"),  # 31 Feb for a woman
        ("6311065403520000", "0000"),
    ],
)
def test_impossible_niks_are_refused(nik: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validation.parse_nik(nik)


def test_a_mismatch_with_the_form_is_a_warning_not_an_error() -> None:
    warnings = validation.nik_warnings("6311065403520001", date(1952, 3, 15), "L")
    assert len(warnings) == 2
    assert validation.nik_warnings("6311065403520001", date(1952, 3, 14), "P") == []


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("0812-3456-7890", "+6281234567890"),
        ("62 812 3456 7890", "+6281234567890"),
        ("+6281234567890", "+6281234567890"),
    ],
)
def test_phones_are_normalized_to_plus_62(raw: str, normalized: str) -> None:
    assert validation.normalize_phone(raw) == normalized


@pytest.mark.parametrize("raw", ["12345", "0212345678", "08abc", "+1 555 0100"])
def test_non_mobile_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        validation.normalize_phone(raw)


def test_desa_must_be_in_balangan() -> None:
    assert validation.check_village("63.11.06.1019").name == "Paringin Timur"
    with pytest.raises(ValueError):
        validation.check_village("63.10.01.2001")


def test_nik_is_masked_in_lists() -> None:
    assert validation.mask_nik("6311065403520001") == "6311********0001"
