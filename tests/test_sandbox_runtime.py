"""A diagram whose code fails at run time answers an engine error, never a 500, and stores nothing."""

from __future__ import annotations

from typing import Any

from config import BASE_DIR
from tests.test_processes import upload
from tests.test_public_pages import apply_form, cases
from web.demo import sample_application

RUJUKAN = (BASE_DIR / "bpmn" / "rujukan.bpmn").read_bytes()
# Deploys (the name could be task data), then fails on every new application: 'banyaknya' is unknown.
FAILING = RUJUKAN.replace(
    b"<spiffworkflow:properties>",
    b"<spiffworkflow:preScript>jumlah = [0] * banyaknya</spiffworkflow:preScript><spiffworkflow:properties>",
    1,
)


def test_a_failing_diagram_expression_gives_the_public_a_clear_error_and_no_case(
    client: Any, app: Any, token: Any
) -> None:
    assert FAILING != RUJUKAN
    deployed = upload(client, token("admin"), ("rujukan.bpmn", FAILING), confirm=True)
    assert deployed.status_code == 201, deployed.get_json()
    before = cases(app)

    answer = client.post("/api/v1/applications", json=sample_application(0))
    assert answer.status_code == 503, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == "procedure_failed"
    assert "Verifikasi kelengkapan" in error["message"] and "hubungi" in error["message"]
    assert error["details"]["element_id"] == "verifikasi" and "banyaknya" in error["details"]["reason"]

    page = client.post("/apply", data=apply_form(1), content_type="multipart/form-data")
    assert page.status_code == 503
    assert "Prosedur tidak dapat dijalankan" in page.get_data(as_text=True)
    assert cases(app) == before
