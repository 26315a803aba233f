"""Home, application and complaint pages: parse the form → engine → render."""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, make_response, redirect, render_template, request, session, url_for
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
from engine.models import StagedUpload
from engine.staging import StagedUploadGone, StagedUploadNotYours, check_staged, take_staged
from engine.text import N_

from ..catalogue import UNKNOWN_SERVICE, complaint_process, offered, process_of
from ..extensions import db
from ..i18n import error_text
from ..i18n import gettext as _
from ..limits import limited
from ..navigation import no_store, refuse_with_redirect, take_refused
from . import bp
from .documents import document_settings, read_upload, staging_limits
from .forms import FormReused, content_digest, kecamatan_groups, new_form_token, submit_once, validate
from .messages import resident_messages
from .staging import FORM_KINDS, owner, staged_ids, staged_on_page
from .track import case_for, known_tracking_code, remember_tracking

APPLY_FIELDS = ("service", "ppks_category", "description")
APPLICANT_FIELDS = ("nik", "kk_number", "name", "birth_date", "gender", "phone", "address", "village_code")
COMPLAINT_FIELDS = ("category", "description", "phone", "village_code", "name")
UPLOAD_KINDS = FORM_KINDS["apply"]

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
        recent=_recently_sent("apply"),
        staged=staged_on_page("apply"),
    )
    return _private(page), status


RECENT_SECONDS = 3600


def _private(page: str) -> Any:
    """A form page names this browser's staged uploads: never kept by a shared cache."""
    response = make_response(page)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


class StagedFiles:
    """The staged uploads a form sent (``staged_<kind>`` ids), checked to be this session's.

    A foreign id refuses the form (403). A missing one (expired, or attached already by an
    earlier tap of the same form) is raised only when the case is created: ``submit_once``
    answers a repeated form with its first receipt without creating anything.
    """

    def __init__(self, form: str) -> None:
        self.ids = staged_ids(form)
        self.rows: dict[str, StagedUpload] = {}
        self.gone: StagedUploadGone | None = None
        self.foreign: StagedUploadNotYours | None = None
        if not self.ids:
            return
        try:
            self.rows = check_staged(db.session, owner() or "", self.ids, utcnow(), staging_limits().max_age)
        except StagedUploadNotYours as exc:
            self.foreign = exc
        except StagedUploadGone as exc:
            self.gone = exc

    def digest_parts(self) -> dict[str, bytes]:
        return {f"staged_{kind}": staged_id.encode() for kind, staged_id in self.ids.items()}

    def attach(self, case: Any, now: Any) -> int:
        """Attach them to ``case`` (the same unit of work), deleting them from staging."""
        if self.gone is not None:
            raise self.gone
        for kind, (content, filename) in take_staged(db.session, self.rows.values()).items():
            add_document(db.session, case, content, kind, APPLICANT, now, document_settings(), filename)
        return len(self.rows)


def _recently_sent(form: str) -> str | None:
    """The reference this browser sent with ``form`` in the last hour (Back to a sent form says so)."""
    last = session.get("receipt") or {}
    if last.get("form") == form and time.time() - float(last.get("at") or 0) < RECENT_SECONDS:
        return str(last.get("reference"))
    return None


@bp.get("/apply")
def apply_form() -> Any:
    owner(create=True)  # the session's uploader key before the page's files are sent, which go in parallel
    refused = take_refused("apply")
    if refused is not None:
        return _apply_page(*refused)
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
            errors[f"doc_{kind}"] = error_text(exc)
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
            errors[f"doc_{kind}"] = error_text(exc)
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
    staged = StagedFiles("apply")
    if staged.foreign is not None:
        return _refuse_foreign("apply", values, staged.foreign, _apply_page)
    if errors or data is None or process is None:
        kept = {**values, "had_files": "1" if any(f.filename for f in request.files.values()) else ""}
        return refuse_with_redirect("apply", url_for("public.apply_form"), kept, errors) or _apply_page(
            kept, errors, 422
        )
    cleaned, errors = _clean_uploads(contents)
    if errors:
        return refuse_with_redirect("apply", url_for("public.apply_form"), values, errors) or _apply_page(
            values, errors, 422
        )

    def create() -> dict[str, Any]:
        now = utcnow()
        case, code, _warnings = intake.submit_application(
            db.session, data, APPLICANT, now, current_app.config["RESUBMISSION_TIMEOUT"], process
        )
        for kind, content in cleaned.items():
            upload = request.files[f"doc_{kind}"]
            add_document(db.session, case, content, kind, APPLICANT, now, document_settings(), upload.filename)
        count = len(contents) + staged.attach(case, now)
        return {"kind": "rujukan", "reference": case.reference, "tracking_code": code, "documents": count}

    return _submit_and_show_receipt("apply", values, contents, staged, create, _apply_page)


@bp.get("/complaint")
def complaint_form() -> Any:
    owner(create=True)  # the session's uploader key before the page's files are sent, which go in parallel
    refused = take_refused("complaint")
    if refused is not None:
        return _complaint_page(*refused)
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
        recent=_recently_sent("complaint"),
        staged=staged_on_page("complaint"),
    )
    return _private(page), status


@bp.post("/complaint")
@limited("RATELIMIT_SUBMIT")
def complaint_submit() -> Any:
    values = {name: request.form.get(name, "").strip() for name in COMPLAINT_FIELDS}
    values["form_token"] = request.form.get("form_token", "")
    body = {k: v for k, v in values.items() if k in COMPLAINT_FIELDS and (v or k != "name")}
    data, errors = validate(_complaint, body)
    contents, upload_errors = _check_uploads(FORM_KINDS["complaint"])
    errors.update(upload_errors)
    staged = StagedFiles("complaint")
    if staged.foreign is not None:
        return _refuse_foreign("complaint", values, staged.foreign, _complaint_page)
    if errors or data is None:
        return refuse_with_redirect("complaint", url_for("public.complaint_form"), values, errors) or _complaint_page(
            values, errors, 422
        )
    cleaned, errors = _clean_uploads(contents)
    if errors:
        return refuse_with_redirect("complaint", url_for("public.complaint_form"), values, errors) or _complaint_page(
            values, errors, 422
        )

    def create() -> dict[str, Any]:
        now = utcnow()
        case, code = intake.submit_complaint(db.session, data, APPLICANT, now, complaint_process())
        if "lainnya" in cleaned:
            upload = request.files["doc_lainnya"]
            add_document(
                db.session, case, cleaned["lainnya"], "lainnya", APPLICANT, now, document_settings(), upload.filename
            )
        count = len(contents) + staged.attach(case, now)
        return {"kind": "aduan", "reference": case.reference, "tracking_code": code, "documents": count}

    return _submit_and_show_receipt("complaint", values, contents, staged, create, _complaint_page)


REUSED_FORM = N_("Formulir ini sudah pernah dikirim dengan isi lain. Periksa isian lalu kirim sekali lagi.")


def _refuse_foreign(form: str, values: dict[str, str], exc: StagedUploadNotYours, page: Any) -> Any:
    """A staged id of another browser session: refused (403), its field says why."""
    errors = {str(k): str(v) for k, v in (exc.details or {}).items()}
    location = url_for(f"public.{form}_form")
    return refuse_with_redirect(form, location, values, errors, 403) or page(values, errors, 403)


def _submit_and_show_receipt(
    form: str, values: dict[str, str], contents: dict[str, bytes], staged: StagedFiles, create: Any, page: Any
) -> Any:
    """Create once per form token and content, remember the tracking code, redirect to the receipt."""
    fields = {k: v for k, v in values.items() if k != "form_token"}
    location = url_for(f"public.{form}_form")
    try:
        answer = submit_once(
            form, values["form_token"], content_digest(fields, {**contents, **staged.digest_parts()}), create
        )
    except FormReused:
        db.session.rollback()
        values, errors = {**fields, "form_token": new_form_token()}, {"form": REUSED_FORM}
        return refuse_with_redirect(form, location, values, errors, 409) or page(values, errors, 409)
    except StagedUploadGone as gone:
        db.session.rollback()  # the case it was about to be attached to goes too
        errors = {str(k): str(v) for k, v in (gone.details or {}).items()}
        return refuse_with_redirect(form, location, values, errors) or page(values, errors, 422)
    remember_tracking(answer["reference"], answer["tracking_code"])
    session["receipt"] = {
        "form": form,
        "reference": answer["reference"],
        "documents": answer["documents"],
        "at": time.time(),
    }
    return redirect(url_for("public.receipt", reference=answer["reference"]), 303)


@bp.get("/terkirim")
def last_receipt() -> Any:
    """The receipt of this browser's last submission (bookmarks made before receipts had their own address)."""
    last = session.get("receipt") or {}
    if not last.get("reference"):
        return redirect(url_for("public.track_form"))
    return redirect(url_for("public.receipt", reference=last["reference"]))


@bp.get("/terkirim/<reference>")
def receipt(reference: str) -> Any:
    """The receipt, as often as the applicant reopens it in the browser that sent the form.

    The address names only the reference; the tracking code comes from this browser's session
    (kept by ``remember_tracking``), so the link shows nothing to anyone else, and the page is
    never cached.
    """
    code = known_tracking_code(reference)
    case = case_for(reference, code)
    if case is None or code is None:
        return redirect(url_for("public.track_form"))
    last = session.get("receipt") or {}
    documents = last.get("documents", 0) if last.get("reference") == case.reference else 0
    answer = {
        "kind": "aduan" if case.kind == "aduan" else "rujukan",
        "reference": case.reference,
        "tracking_code": code,
        "documents": documents,
    }
    page = make_response(render_template("public/receipt.html", receipt=answer, receipt_text=receipt_text(answer)))
    return no_store(page)


@bp.get("/terkirim/<reference>.txt")
def receipt_download(reference: str) -> Any:
    """The receipt as a small text file to keep (works without JavaScript)."""
    code = known_tracking_code(reference)
    case = case_for(reference, code)
    if case is None or code is None:
        return redirect(url_for("public.track_form"))
    text = receipt_text(
        {"kind": "aduan" if case.kind == "aduan" else "rujukan", "reference": case.reference, "tracking_code": code}
    )
    response = make_response(text)
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{case.reference}.txt"'
    return no_store(response)


def receipt_text(answer: dict[str, Any]) -> str:
    """What the applicant keeps: the reference, the code and where to use them."""
    number = _("Nomor aduan") if answer["kind"] == "aduan" else _("Nomor permohonan")
    track = current_app.config["PUBLIC_BASE_URL"] + url_for("public.track_form")
    return "\n".join(
        (
            current_app.config["AGENCY"].full_name,
            f"{number}: {answer['reference']}",
            f"{_('Kode pelacakan')}: {answer['tracking_code']}",
            _("Lihat perkembangan di %(url)s", url=track),
            "",
        )
    )
