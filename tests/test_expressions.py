"""Every expression and script SpiffWorkflow evaluates is found in a diagram, with element and line, and checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from config import BASE_DIR
from engine.expressions import check_diagram_code, find_diagram_code
from tests.test_processes import RUJUKAN, problems, upload

DATA = Path(__file__).parent / "data" / "sandbox"
BPMN_UNSAFE = {
    "skrip": 3,  # the script, the pre-script and the post-script
    "multi": 2,  # loopCardinality and completionCondition
    "ulang": 1,  # loopCondition
    "tunggu_tanggal": 1,
    "tunggu_durasi": 1,
    "tunggu_siklus": 1,
    "tunggu_kondisi": 1,
    "kirim_pesan": 2,  # message payload and process-variable correlation
    "kirim_sinyal": 1,
    "layanan": 1,  # service task parameter
    "korelasi": 1,  # correlationPropertyRetrievalExpression
    "f_juel": 1,
}


def parsed(name: str) -> Any:
    return etree.fromstring((DATA / name).read_bytes())


def by_element(found: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for problem in found:
        grouped.setdefault(problem["element_id"], []).append(problem)
    return grouped


def test_every_place_spiffworkflow_evaluates_code_in_a_bpmn_file_is_checked() -> None:
    found = by_element(check_diagram_code(parsed("every_expression.bpmn"), "every_expression.bpmn"))
    assert {k: len(v) for k, v in found.items()} == BPMN_UNSAFE
    for problem in (p for group in found.values() for p in group):
        assert problem["line"] and "«" in problem["message"], problem
    assert "bukan ekspresi Python" in found["f_juel"][0]["message"]
    assert any(p["message"].startswith("Pra-skrip") for p in found["skrip"])
    script = next(p for p in found["skrip"] if p["message"].startswith("Skrip"))
    assert "(baris 2)" in script["message"] and "vars" in script["message"]


def test_the_finder_lists_safe_code_too_with_its_mode() -> None:
    code = find_diagram_code(parsed("every_expression.bpmn"), "every_expression.bpmn")
    assert {(c.element_id, c.mode) for c in code} >= {("skrip", "exec"), ("f_lain", "eval"), ("multi", "eval")}
    assert len(code) == sum(BPMN_UNSAFE.values()) + 1  # + the safe condition on f_lain


def test_every_dmn_input_expression_and_entry_is_checked_as_spiffworkflow_builds_it() -> None:
    found = by_element(check_diagram_code(parsed("every_expression.dmn"), "every_expression.dmn"))
    assert set(found) == {
        "ekspresi_buruk",  # its column's entries are not reported again
        "entri_vars",
        "entri_atribut",  # '.__class__' appended to the input expression
        "entri_tanya",  # '?' replaced by the input value
        "entri_juel",  # named as not Python, even in a refused column
        "keluaran_format",
        "keluaran_pangkat",
    }
    assert "(entri «.__class__»)" in found["entri_atribut"][0]["message"]
    assert "bukan ekspresi Python" in found["entri_juel"][0]["message"]
    assert all(p["line"] for group in found.values() for p in group)


def test_the_bundled_diagrams_have_no_refused_code() -> None:
    for path in sorted((BASE_DIR / "bpmn").glob("*.*mn")):
        root = etree.fromstring(path.read_bytes())
        assert check_diagram_code(root, path.name) == [], path.name
        assert find_diagram_code(root, path.name), path.name


@pytest.mark.parametrize(
    "source",
    [" + ".join(["x"] * 5000), " or ".join(["a == 1"] * 5000), "[" * 500 + "]" * 500, "\x00", "x = (", "-" * 100000],
)
def test_the_check_never_raises_whatever_the_code(source: str) -> None:
    root = etree.fromstring(
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p">'
        b'<bpmn:sequenceFlow id="f"><bpmn:conditionExpression>c</bpmn:conditionExpression></bpmn:sequenceFlow>'
        b"</bpmn:process></bpmn:definitions>"
    )
    root.find(".//{*}conditionExpression").text = source.replace("\x00", "\ufffd")
    found = check_diagram_code(root, "x.bpmn")
    assert len(found) == 1 and found[0]["element_id"] == "f"
    assert len(found[0]["message"]) < 400


def test_loop_and_completion_expressions_are_refused_when_deployed(client: Any, token: Any) -> None:
    bundle = [("every_expression.bpmn", (DATA / "every_expression.bpmn").read_bytes())]
    bundle.append(("every_expression.dmn", (DATA / "every_expression.dmn").read_bytes()))
    found = by_element(problems(upload(client, token("admin"), *bundle)))
    assert {"multi", "ulang", "tunggu_durasi", "layanan", "entri_tanya", "keluaran_pangkat"} <= set(found)


def test_a_five_thousand_term_condition_or_dmn_entry_is_a_422_listing_it(client: Any, token: Any) -> None:
    from tests.sandbox_corpus import diagram

    terms = " or ".join(["decision == 'x'"] * 5000)
    found = by_element(problems(upload(client, token("admin"), ("panjang.bpmn", diagram(condition=terms)))))
    assert "terlalu panjang" in found["f_ya"][0]["message"]
    table = (DATA / "every_expression.dmn").read_bytes().replace(b'"rehsos"', " + ".join(["1"] * 5000).encode())
    found = by_element(problems(upload(client, token("admin"), ("panjang.dmn", table), ("rujukan.bpmn", RUJUKAN))))
    assert "terlalu" in found["keluaran_aman"][0]["message"]
