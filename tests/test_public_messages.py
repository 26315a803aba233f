"""What a resident reads when the apply or complaint form is refused: a plain message per field
(what to write, not "Panjang harus 5–2000 karakter"), linked from the summary at the top."""

from __future__ import annotations

import re
from typing import Any

import pytest

from web.public.messages import GUIDES

TECHNICAL = (
    "Panjang harus",
    "karakter",
    "Wajib diisi",
    "L atau P",
    "Pilih L (",
    "Harus berupa teks",
    "Pilihan tidak valid",
)


def summary_links(html: str) -> list[tuple[str, str]]:
    box = re.search(r'<div class="alert error-summary".*?</div>', html, re.S)
    assert box, "no error summary"
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', box.group(0))


@pytest.mark.parametrize("form", ["apply", "complaint"])
def test_an_empty_form_says_what_to_write_in_each_field(client: Any, form: str) -> None:
    answer = client.post(f"/{form}", data={}, follow_redirects=True)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    links = summary_links(html)
    expected = [name for name in GUIDES[form] if GUIDES[form][name].empty and name in dict(links)]
    assert len(links) >= (10 if form == "apply" else 4)
    for field, message in links:
        assert not any(t in message for t in TECHNICAL), (field, message)
        assert re.search(rf'\sid="{re.escape(field)}"', html), (
            f"the summary links to #{field}, which is not on the page"
        )
        assert f'<p class="error" id="{field}-error">{message}</p>' in html  # the same words next to the field
    for field in expected:
        assert dict(links)[field] == GUIDES[form][field].empty


def test_links_follow_the_order_of_the_form(client: Any) -> None:
    fields = [f for f, _ in summary_links(client.post("/apply", data={}, follow_redirects=True).get_data(as_text=True))]
    assert fields[:3] == ["service", "ppks_category", "description"] and fields[-1] == "consent"


def test_a_wrong_answer_gets_how_to_write_it(client: Any) -> None:
    html = client.post("/apply", data={"description": "abc", "gender": "X", "nik": "123", "name": "A"}, follow_redirects=True).get_data(
        as_text=True
    )
    links = dict(summary_links(html))
    assert "paling sedikit 5 huruf" in links["description"]
    assert links["gender"] == "Pilih Laki-laki atau Perempuan."
    assert links["nik"] == "NIK harus 16 digit angka."  # the precise check's own message stays
    assert "paling sedikit 2 huruf" in links["name"]
    assert "Laki-laki" in html and "Perempuan" in html  # the choices themselves are words


def test_the_messages_are_translated(client: Any) -> None:
    client.set_cookie("lang", "en")
    links = dict(summary_links(client.post("/complaint", data={}, follow_redirects=True).get_data(as_text=True)))
    assert links["category"] == "Choose what your complaint is about."
    assert "Fields to correct: " in client.post("/complaint", data={}, follow_redirects=True).get_data(as_text=True)


def test_the_api_keeps_its_precise_messages(client: Any) -> None:
    answer = client.post("/api/v1/complaints", json={"category": "pelayanan", "description": "abc"})
    assert answer.status_code == 422
    assert "Panjang harus" in str(answer.get_json())
