"""Staff task endpoints: list, get (with form), claim, release, complete."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from engine import cases as case_ops
from engine.clock import utcnow
from engine.errors import Forbidden, NotFound
from engine.forms import form_defaults
from engine.inbox import SORTS, TaskFilter, case_summary, list_tasks, log_access, may_view_case, start_data, task_item
from engine.intake import open_cases_of_same_nik
from engine.models import HumanTask

from ..auth import current_actor, staff_required
from ..disclosure import applicant_for
from ..errors import ApiError
from ..extensions import db
from ..letters import letter_service
from . import bp, doc, json_body, load
from .schemas import CompleteTaskSchema, TaskDetailSchema, TaskItemSchema, TaskListSchema

_complete = CompleteTaskSchema()
_item = TaskItemSchema()
_items = TaskItemSchema(many=True)
_detail = TaskDetailSchema()


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"Parameter {name} harus bilangan bulat") from None
    if not low <= value <= high:
        raise ApiError(400, "invalid_parameter", f"Parameter {name} harus antara {low} dan {high}")
    return value


def _search_arg() -> str | None:
    term = (request.args.get("q") or "").strip()
    if len(term) > 100:
        raise ApiError(400, "invalid_parameter", "Parameter q maksimal 100 karakter")
    return term or None


def task_filter_from_args() -> TaskFilter:
    queue = request.args.get("queue", "available")
    if queue not in {"available", "mine", "all"}:
        raise ApiError(400, "invalid_parameter", "queue harus available, mine atau all")
    sort, order = request.args.get("sort", "created"), request.args.get("order", "asc")
    if sort not in SORTS:
        raise ApiError(400, "invalid_parameter", "sort harus " + ", ".join(SORTS))
    if order not in {"asc", "desc"}:
        raise ApiError(400, "invalid_parameter", "order harus asc atau desc")
    overdue = request.args.get("overdue", "")
    if overdue not in {"", "1", "true", "yes", "0", "false", "no"}:
        raise ApiError(400, "invalid_parameter", "overdue harus 1/true/yes atau 0/false/no")
    return TaskFilter(
        queue=queue,
        service=request.args.get("service") or None,
        kecamatan=request.args.get("kecamatan") or None,
        step=request.args.get("step") or None,
        overdue=overdue in {"1", "true", "yes"},
        search=_search_arg(),
        sort=sort,
        descending=order == "desc",
        page=_int_arg("page", 1, 1, 100000),
        per_page=_int_arg("per_page", 25, 1, current_app.config["PAGE_SIZE_MAX"]),
    )


@bp.get("/tasks")
@doc(
    "Tasks available to my roles (queue=available), claimed by me (mine) or both (all)",
    response=TaskListSchema,
    tags=("tasks",),
    params=(
        ("queue", "query", "available | mine | all"),
        ("service", "query", "service key"),
        ("kecamatan", "query", "kecamatan code, e.g. 63.11.06"),
        ("step", "query", "task name, e.g. verifikasi"),
        ("overdue", "query", "1 for overdue only"),
        ("q", "query", "reference, name or NIK"),
        ("sort", "query", "created | due | reference"),
        ("order", "query", "asc | desc"),
        ("page", "query", "page number from 1"),
        ("per_page", "query", "items per page (max 100)"),
    ),
    errors=(400,),
)
@staff_required()
def get_tasks() -> Any:
    flt = task_filter_from_args()
    now = utcnow()
    items, total = list_tasks(db.session, current_actor(), flt, now)
    return jsonify(
        {
            "items": _items.dump(items),
            "total": total,
            "page": flt.page,
            "per_page": flt.per_page,
        }
    )


def visible_task(task_id: str) -> HumanTask:
    """A task the current user may work on; 404 if unknown, 403 if not theirs."""
    row = db.session.get(HumanTask, task_id)
    if row is None:
        raise NotFound("Tugas tidak ditemukan")
    if not case_ops.may_work_on(row, current_actor()):
        raise Forbidden("Tugas ini bukan untuk peran atau bidang Anda")
    return row


def task_detail(row: HumanTask) -> dict[str, Any]:
    from engine.definitions import load_definition

    loaded = load_definition(row.case.definition)
    schema = loaded.form_schema(row.spec_name)
    defaults: dict[str, Any] = {}
    if row.state in case_ops.OPEN_STATES and schema:
        _, workflow = case_ops.restore_workflow(row.case)
        from uuid import UUID

        task = workflow.get_task_from_id(UUID(row.id))
        if task is not None:
            defaults = form_defaults(schema, task.data)
    detail = task_item(row, utcnow())
    detail.update(
        form_schema=schema,
        form_defaults=defaults,
        case=case_summary(row.case, start_data(db.session, row.case)),
    )
    detail["case"]["applicant"] = applicant_for(row.case, start_data(db.session, row.case))
    actor = current_actor()
    detail["case"]["duplicates"] = [
        {"reference": c.reference, "service": c.service, "status": c.status}
        for c in open_cases_of_same_nik(db.session, row.case)
        if may_view_case(c, actor)
    ]
    return detail


@bp.get("/tasks/<task_id>")
@doc("One task with its form schema and case summary", response=TaskDetailSchema, tags=("tasks",))
@staff_required()
def get_task(task_id: str) -> Any:
    row = visible_task(task_id)
    answer = _detail.dump(task_detail(row))
    log_access(db.session, row.case, current_actor(), "task", utcnow())
    return jsonify(answer)


@bp.post("/tasks/<task_id>/claim")
@doc("Claim a task", response=TaskItemSchema, tags=("tasks",), errors=(409,))
@staff_required()
def claim(task_id: str) -> Any:
    row = case_ops.claim_task(db.session, task_id, current_actor(), utcnow())
    return jsonify(_item.dump(task_item(row, utcnow())))


@bp.post("/tasks/<task_id>/release")
@doc("Release a claimed task back to its queue", response=TaskItemSchema, tags=("tasks",), errors=(409,))
@staff_required()
def release(task_id: str) -> Any:
    row = case_ops.release_task(db.session, task_id, current_actor(), utcnow())
    return jsonify(_item.dump(task_item(row, utcnow())))


@bp.post("/tasks/<task_id>/complete")
@doc(
    "Complete a task with its form data",
    body=CompleteTaskSchema,
    response=TaskItemSchema,
    tags=("tasks",),
    errors=(409,),
)
@staff_required()
def complete(task_id: str) -> Any:
    body = load(_complete, json_body())
    row = case_ops.complete_task(db.session, task_id, current_actor(), body["data"], utcnow(), letters=letter_service())
    answer = _item.dump(task_item(row, utcnow()))  # while its case is at hand
    return jsonify(answer)
