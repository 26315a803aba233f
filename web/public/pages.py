"""Home, application and complaint pages: parse the form → engine → render."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for
from werkzeug.datastructures import FileStorage

from engine import intake
from engine.audit import APPLICANT
from engine.clock import utcnow
from engine.documents import (
    CleanContent,
    DocumentTooLarge,
    UnsupportedDocumentType,
    add_document,
    check_content,
    clean_content,
)
from engine.text import N_

from ..catalogue import UNKNOWN_SERVICE, complaint_process, offered, process_of
from ..extensions import db
from ..limits import limited
from ..sealing import opened_answer, sealed_answer
from . import bp
from .documents import document_settings, read_upload
from .forms import FormReused, content_digest, kecamatan_groups, new_form_token, submit_once, validate
from .messages import resident_messages
from .track import remember_tracking

APPLY_FIELDS = ("service", "ppks_category", "description")
APPLICANT_FIELDS = ("nik", "kk_number", "name", "birth_date", "gender", "phone", "address", "village_code")
COMPLAINT_FIELDS = ("category", "description", "phone", "village_code", "name")
UPLOAD_KINDS = tuple(k for k in intake.APPLICANT_DOCUMENT_KINDS if k != "lainnya")

_application = intake.ApplicationSchema()
_complaint = intake.ComplaintSchema()


# The seed's eight features, in its order: six services, the weather and complaints.
FEATURES = ("panti_rehab", "sandang", "slrt", "alat_bantu", "berdaya", "pendamping", "cuaca", "aduan")


def _features() -> list[tuple[str, str, str]]:
    tiles = []
    for key in FEATURES:
        if key in intake.SERVICES:
            tiles.append((key, url_for("public.apply_form", service=key), intake.SERVICES[key][0]))
        elif key == "cuaca":
            tiles.append((key, url_for("public.weather_page"), N_("Cuaca")))
        else:
            tiles.append((key, url_for("public.complaint_form"), N_("Aduan")))
    return tiles


@bp.get("/")
def home() -> Any:
    return render_template("public/home.html", features=_features())


def _apply_page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    services = offered()
    required = {key: service.documents for key, service in services.items()}
    needs: dict[str, list[str]] = {}
    for service_key, kinds in required.items():
        for kind in kinds:
            needs.setdefault(kind, []).append(service_key)
    page = render_template(
        "public/apply.html",
        values=values,
        errors=resident_messages("apply", values, errors),
        services={key: (s.label, s.description) for key, s in services.items()},
        required=required,
        categories=intake.PPKS_CATEGORIES,
        kinds=intake.DOCUMENT_KINDS,
        upload_kinds=UPLOAD_KINDS,
        needs=needs,
        groups=kecamatan_groups(),
        form_token=values.get("form_token") or new_form_token(),
        max_mb=current_app.config["MAX_DOCUMENT_BYTES"] // (1024 * 1024),
    )
    return page, status


@bp.get("/apply")
def apply_form() -> Any:
    return _apply_page({"service": request.args.get("service", "")}, {})


def _check_uploads(kinds: tuple[str, ...]) -> tuple[dict[str, bytes], dict[str, str]]:
    """Read each chosen file and run the cheap checks (size, type, pixel count from the header),
    so every error shows at once; nothing is decoded yet (see ``_clean_uploads``)."""
    contents, errors = {}, {}
    for kind in kinds:
        upload: FileStorage | None = request.files.get(f"doc_{kind}")
        if upload is None or not upload.filename:
            continue
        try:
            content = read_upload(upload)
            check_content(content, document_settings())
        except (DocumentTooLarge, UnsupportedDocumentType) as exc:
            errors[f"doc_{kind}"] = exc.message
            continue
        contents[kind] = content
    return contents, errors


def _clean_uploads(contents: dict[str, bytes]) -> tuple[dict[str, CleanContent], dict[str, str]]:
    """Decode and clean the files of an otherwise valid form (the expensive part, done once)."""
    cleaned, errors = {}, {}
    for kind, content in contents.items():
        try:
            cleaned[kind] = clean_content(content, document_settings())
        except (DocumentTooLarge, UnsupportedDocumentType) as exc:
            errors[f"doc_{kind}"] = exc.message
    return cleaned, errors


@bp.post("/apply")
@limited("RATELIMIT_SUBMIT")
def apply_submit() -> Any:
    form = request.form
    values = {name: form.get(name, "").strip() for name in (*APPLY_FIELDS, *APPLICANT_FIELDS)}
    values["consent"] = "1" if form.get("consent") == "1" else ""
    values["form_token"] = form.get("form_token", "")
    data, errors = validate(
        _application,
        {
            **{k: values[k] for k in APPLY_FIELDS},
            "applicant": {k: values[k] for k in APPLICANT_FIELDS},
            "consent_pdp": bool(values["consent"]),
        },
    )
    process = process_of(values["service"])
    if process is None:
        errors.setdefault("service", UNKNOWN_SERVICE)
    if not values["consent"]:
        errors["consent"] = "Centang persetujuan ini agar permohonan dapat diproses."
    contents, upload_errors = _check_uploads(UPLOAD_KINDS)
    errors.update(upload_errors)
    if errors or data is None or process is None:
        return _apply_page(values, errors, 422)
    cleaned, errors = _clean_uploads(contents)
    if errors:
        return _apply_page(values, errors, 422)

    def create() -> dict[str, Any]:
        now = utcnow()
        case, code, _warnings = intake.submit_application(
            db.session, data, APPLICANT, now, current_app.config["RESUBMISSION_TIMEOUT"], process
        )
        for kind, content in cleaned.items():
            upload = request.files[f"doc_{kind}"]
            add_document(db.session, case, content, kind, APPLICANT, now, document_settings(), upload.filename)
        return {"kind": "rujukan", "reference": case.reference, "tracking_code": code, "documents": len(contents)}

    return _submit_and_show_receipt("apply", values, contents, create, _apply_page)


@bp.get("/complaint")
def complaint_form() -> Any:
    return _complaint_page({}, {})


def _complaint_page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    page = render_template(
        "public/complaint.html",
        values=values,
        errors=resident_messages("complaint", values, errors),
        categories=intake.COMPLAINT_CATEGORIES,
        groups=kecamatan_groups(),
        form_token=values.get("form_token") or new_form_token(),
        max_mb=current_app.config["MAX_DOCUMENT_BYTES"] // (1024 * 1024),
    )
    return page, status


@bp.post("/complaint")
@limited("RATELIMIT_SUBMIT")
def complaint_submit() -> Any:
    values = {name: request.form.get(name, "").strip() for name in COMPLAINT_FIELDS}
    values["form_token"] = request.form.get("form_token", "")
    body = {k: v for k, v in values.items() if k in COMPLAINT_FIELDS and (v or k != "name")}
    data, errors = validate(_complaint, body)
    contents, upload_errors = _check_uploads(("lainnya",))
    errors.update(upload_errors)
    if errors or data is None:
        return _complaint_page(values, errors, 422)
    cleaned, errors = _clean_uploads(contents)
    if errors:
        return _complaint_page(values, errors, 422)

    def create() -> dict[str, Any]:
        now = utcnow()
        case, code = intake.submit_complaint(db.session, data, APPLICANT, now, complaint_process())
        if "lainnya" in cleaned:
            upload = request.files["doc_lainnya"]
            add_document(
                db.session, case, cleaned["lainnya"], "lainnya", APPLICANT, now, document_settings(), upload.filename
            )
        return {"kind": "aduan", "reference": case.reference, "tracking_code": code, "documents": len(contents)}

    return _submit_and_show_receipt("complaint", values, contents, create, _complaint_page)


REUSED_FORM = N_("Formulir ini sudah pernah dikirim dengan isi lain. Periksa isian lalu kirim sekali lagi.")


def _submit_and_show_receipt(
    form: str, values: dict[str, str], contents: dict[str, bytes], create: Any, page: Any
) -> Any:
    """Create once per form token and content, remember the tracking code, redirect to the receipt."""
    fields = {k: v for k, v in values.items() if k != "form_token"}
    try:
        answer = submit_once(form, values["form_token"], content_digest(fields, contents), create)
    except FormReused:
        db.session.rollback()
        return page({**fields, "form_token": new_form_token()}, {"form": REUSED_FORM}, 409)
    remember_tracking(answer["reference"], answer["tracking_code"])
    session["receipt"] = sealed_answer(answer)  # the cookie is signed, not encrypted
    return redirect(url_for("public.receipt"))


@bp.get("/terkirim")
def receipt() -> Any:
    """After a submission: the reference and tracking code, shown once (Post/Redirect/Get)."""
    answer = session.pop("receipt", None)
    if not answer:
        return redirect(url_for("public.track_form"))
    return render_template("public/receipt.html", receipt=opened_answer(answer))
