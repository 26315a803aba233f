"""Marshmallow schemas of the API's bodies and answers (whitelisted fields, OpenAPI source)."""

from __future__ import annotations

from marshmallow import Schema, fields


class ErrorBodySchema(Schema):
    code = fields.String()
    message = fields.String()
    details = fields.Raw(allow_none=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema)


class TokenRequestSchema(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True)


class TokenSchema(Schema):
    token = fields.String()
    token_type = fields.String()
    expires_at = fields.DateTime()
    username = fields.String()
    roles = fields.List(fields.String())


class CredentialSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "api (a bearer token) or session (a browser login)"})
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True, metadata={"description": "to within ten minutes"})
    client_address = fields.String(allow_none=True, metadata={"description": "where it was issued"})
    user_agent = fields.String(allow_none=True)
    current = fields.Boolean(metadata={"description": "the credential of this request"})


class CredentialListSchema(Schema):
    items = fields.List(fields.Nested(CredentialSchema))


class ApplicationCreatedSchema(Schema):
    reference = fields.String()
    tracking_code = fields.String()
    status = fields.String()
    warnings = fields.List(fields.String())


class DocumentSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    mime_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    created_at = fields.DateTime()


class TrackedDocumentSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    mime_type = fields.String()
    size = fields.Integer()
    created_at = fields.DateTime()


class DuplicateCaseSchema(Schema):
    reference = fields.String()
    service = fields.String(allow_none=True)
    status = fields.String()


class ResubmitSchema(Schema):
    tracking_code = fields.String(required=True)
    note = fields.String(load_default="", validate=lambda s: len(s) <= 2000)


class TimelineItemSchema(Schema):
    at = fields.DateTime()
    text = fields.String()


class TrackingSchema(Schema):
    reference = fields.String()
    status = fields.String()
    status_text = fields.String()
    step = fields.String(allow_none=True)
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    outcome_reason = fields.String(allow_none=True)
    missing_documents = fields.List(fields.String())
    can_resubmit = fields.Boolean()
    timeline = fields.List(fields.Nested(TimelineItemSchema))
    documents = fields.List(fields.Nested(TrackedDocumentSchema))
    letter = fields.Nested("ApplicantLetterSchema", allow_none=True)


class TaskItemSchema(Schema):
    id = fields.String()
    case_reference = fields.String()
    name = fields.String()
    title = fields.String()
    role = fields.String()
    bidang = fields.String(allow_none=True)
    state = fields.String()
    claimed_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    service = fields.String(allow_none=True)
    applicant_name = fields.String(allow_none=True)
    nik_masked = fields.String(allow_none=True)
    kecamatan = fields.String(allow_none=True)
    desa = fields.String(allow_none=True)


class TaskListSchema(Schema):
    items = fields.List(fields.Nested(TaskItemSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ApplicantViewSchema(Schema):
    """The applicant's personal data as far as the caller's roles need it (engine/disclosure.py)."""

    disclosed = fields.List(fields.String())
    nik = fields.String(allow_none=True)
    kk_number = fields.String(allow_none=True)
    birth_date = fields.Date(allow_none=True)
    gender = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    map_url = fields.String(allow_none=True)
    documents = fields.Boolean()


class CaseSummarySchema(Schema):
    reference = fields.String()
    kind = fields.String()
    status = fields.String()
    service = fields.String(allow_none=True)
    ppks_category = fields.String(allow_none=True)
    applicant_name = fields.String(allow_none=True)
    nik_masked = fields.String(allow_none=True)
    village_code = fields.String(allow_none=True)
    desa = fields.String(allow_none=True)
    kecamatan = fields.String(allow_none=True)
    bidang = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    warnings = fields.List(fields.String())
    applicant = fields.Nested(ApplicantViewSchema)
    # other cases of the same NIK the caller may see (a task: the open ones; a case: all)
    duplicates = fields.List(fields.Nested(DuplicateCaseSchema))


class TaskDetailSchema(TaskItemSchema):
    form_schema = fields.Dict(allow_none=True)
    form_defaults = fields.Dict()
    case = fields.Nested(CaseSummarySchema)


class CompleteTaskSchema(Schema):
    data = fields.Dict(required=True)


class LetterRefSchema(Schema):
    number = fields.String()
    series = fields.String()
    issued_at = fields.DateTime()
    verify_token = fields.String()
    sha256 = fields.String()
    status = fields.String()  # valid | revoked
    revoked_at = fields.DateTime(allow_none=True)


class RevokeLetterSchema(Schema):
    reason = fields.String(required=True)


class LetterVerificationSchema(Schema):
    number = fields.String()
    series = fields.String()
    issued_at = fields.DateTime()
    subject = fields.String()
    applicant = fields.String()  # partly masked
    service = fields.String(allow_none=True)
    status = fields.String()  # valid | revoked
    revoked_at = fields.DateTime(allow_none=True)
    sha256 = fields.String()


class LetterCheckSchema(LetterVerificationSchema):
    matches = fields.Boolean()  # the uploaded bytes are the issued PDF


class ApplicantLetterSchema(Schema):
    number = fields.String()
    series = fields.String()
    issued_at = fields.DateTime()
    status = fields.String()
    download_url = fields.String(allow_none=True)


class CaseTaskSchema(Schema):
    id = fields.String()
    name = fields.String()
    title = fields.String()
    role = fields.String()
    bidang = fields.String(allow_none=True)
    state = fields.String()
    claimed_by = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)


class CaseSchema(CaseSummarySchema):
    definition_key = fields.String()
    definition_version = fields.Integer()
    outcome = fields.String(allow_none=True)
    outcome_reason = fields.String(allow_none=True)
    current_step = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    lock_version = fields.Integer()
    tasks = fields.List(fields.Nested(CaseTaskSchema))
    letter = fields.Nested(LetterRefSchema, allow_none=True)


class EventSchema(Schema):
    seq = fields.Integer()
    kind = fields.String()
    actor = fields.String()
    role = fields.String(allow_none=True)
    at = fields.DateTime()
    task_id = fields.String(allow_none=True)
    task_spec = fields.String(allow_none=True)
    payload = fields.Dict()
    prev_hash = fields.String()
    hash = fields.String()


class HistorySchema(Schema):
    reference = fields.String()
    chain_valid = fields.Boolean()
    events = fields.List(fields.Nested(EventSchema))


class DifferenceSchema(Schema):
    """One disagreement found: at event ``event`` (null: the final state), ``field`` should be ``expected``."""

    event = fields.Integer(allow_none=True)
    field = fields.String()
    expected = fields.Raw(allow_none=True)
    found = fields.Raw(allow_none=True)


class ReplaySchema(Schema):
    consistent = fields.Boolean()
    chain_valid = fields.Boolean()
    steps = fields.Integer()
    differences = fields.List(fields.Nested(DifferenceSchema))


class ProcessSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    sha256 = fields.String()
    files = fields.List(fields.String())
    deployed_by = fields.String()
    deployed_at = fields.DateTime()
    open_cases = fields.Integer(allow_none=True)


class ProcessListSchema(Schema):
    items = fields.List(fields.Nested(ProcessSchema))


class ProblemSchema(Schema):
    file = fields.String()
    element_id = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True)
    message = fields.String()
    severity = fields.String()


class DeploymentSchema(Schema):
    items = fields.List(fields.Nested(ProcessSchema))
    unchanged = fields.List(fields.String())
    warnings = fields.List(fields.Nested(ProblemSchema))


class ValidationReportSchema(Schema):
    valid = fields.Boolean()
    procedures = fields.List(fields.String())
    errors = fields.List(fields.Nested(ProblemSchema))
    warnings = fields.List(fields.Nested(ProblemSchema))


class ChangedElementSchema(Schema):
    id = fields.String()
    name = fields.String()
    attributes = fields.List(fields.String())


class FileChangesSchema(Schema):
    added = fields.List(fields.String())
    removed = fields.List(fields.String())
    changed = fields.List(fields.String())


class ProcessDiffSchema(Schema):
    key = fields.String()
    from_version = fields.Integer()
    to_version = fields.Integer()
    added = fields.List(fields.Nested(ChangedElementSchema))
    removed = fields.List(fields.Nested(ChangedElementSchema))
    changed = fields.List(fields.Nested(ChangedElementSchema))
    files = fields.Nested(FileChangesSchema)


class RegionSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()


class RegionListSchema(Schema):
    kecamatan = fields.List(fields.Nested(RegionSchema))
    desa = fields.List(fields.Nested(RegionSchema))
