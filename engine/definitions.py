"""Procedure versions: deploy (validated, immutable, spec stored once) and restore them.

Reading the upload is ``engine/bundle.py``; the rules are ``engine/diagram_checks.py`` and
``engine/bundle_validation.py``; comparing versions is ``engine/versions.py``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .audit import Actor
from .bundle import ParsedFile, parse_xml, problem, processes_in, read_files
from .bundle_validation import ProcedureBundle, file_problems, targets_of, validate_procedures
from .diagram_checks import NOT_WORKING_ROLES, Rules, human_task_specs
from .errors import Conflict, DeploymentInvalid, NotFound
from .forms import apply_ui_schema
from .models import ProcessDefinition
from .serialization import SERIALIZER


@dataclass
class TaskMeta:
    """What the inbox needs to know of a user task, read from the diagram."""

    name: str
    title: str
    role: str | None
    form: str | None
    sla_days: int | None
    due_variable: str | None = None
    ui_form: str | None = None
    letter: str | None = None  # completing it issues a letter of this series (property issuesLetter)


@dataclass
class LoadedDefinition:
    """A deployed version restored into live SpiffWorkflow objects (cached per process)."""

    id: int
    key: str
    version: int
    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, dict[str, Any]]
    tasks: dict[str, TaskMeta] = field(default_factory=dict)
    outcomes: dict[str, tuple[str, str]] = field(default_factory=dict)
    # end event id → the letter series a case ending there issues (property issuesLetter)
    end_letters: dict[str, str] = field(default_factory=dict)

    def form_schema(self, task_name: str) -> dict[str, Any] | None:
        meta = self.tasks.get(task_name)
        if meta is None or meta.form is None:
            return None
        schema = self.forms.get(meta.form)
        if schema is not None and meta.ui_form and meta.ui_form in self.forms:
            return apply_ui_schema(schema, self.forms[meta.ui_form])
        return schema


def _properties(spec: Any) -> dict[str, str]:
    extensions = getattr(spec, "extensions", None) or {}
    return dict(extensions.get("properties") or {})


def _task_meta(spec: Any) -> TaskMeta:
    props = _properties(spec)
    sla = props.get("slaDays")
    return TaskMeta(
        name=spec.bpmn_id or spec.name,
        title=spec.bpmn_name or spec.bpmn_id or spec.name,
        role=spec.lane,
        form=props.get("formJsonSchemaFilename"),
        sla_days=int(sla) if sla and str(sla).isdigit() else None,
        due_variable=props.get("dueDateVariable"),
        ui_form=props.get("formUiSchemaFilename"),
        letter=props.get("issuesLetter") or None,
    )


def _end_outcomes(spec: Any) -> dict[str, tuple[str, str]]:
    outcomes = {}
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, EndEvent) and task_spec.bpmn_id:
            outcome = _properties(task_spec).get("outcome", "completed")
            reason = (task_spec.documentation or task_spec.bpmn_name or "").strip()
            outcomes[task_spec.bpmn_id] = (outcome, reason)
    return outcomes


def _end_letters(spec: Any) -> dict[str, str]:
    letters = {}
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, EndEvent) and task_spec.bpmn_id:
            series = _properties(task_spec).get("issuesLetter")
            if series:
                letters[task_spec.bpmn_id] = series
    return letters


def _digest(files: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode("utf-8")).hexdigest()


def latest_definition(session: Session, key: str) -> ProcessDefinition | None:
    return session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).first()


def latest_version(session: Session, key: str) -> tuple[int, str]:
    """Id and digest of the newest version of procedure ``key`` (enough to find it cached)."""
    stmt = (
        select(ProcessDefinition.id, ProcessDefinition.sha256)
        .where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )
    found = session.execute(stmt).first()
    if found is None:
        raise NotFound(f"Prosedur '{key}' belum dipasang")
    return found[0], found[1]


class DeploymentNeedsConfirmation(Conflict):
    """A deployment would replace a live procedure or one from another file: ask first."""

    code = "confirmation_required"


@dataclass
class Deployment:
    """What a deployment did: the versions (new or unchanged) and the warnings to show."""

    versions: list[ProcessDefinition]
    warnings: list[dict[str, Any]]
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _rules(roles: Iterable[str], bidang: Iterable[str]) -> Rules:
    return Rules(roles=frozenset(roles) - NOT_WORKING_ROLES, bidang=frozenset(bidang))


def _latest_versions(session: Session) -> list[ProcessDefinition]:
    latest = (
        select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    return list(
        session.scalars(
            select(ProcessDefinition).join(
                latest,
                (ProcessDefinition.key == latest.c.key) & (ProcessDefinition.version == latest.c.version),
            )
        )
    )


def diagram_of(definition: ProcessDefinition) -> str | None:
    """The file of a stored version that defines its process."""
    for name, text in sorted(definition.files.items()):
        if not name.endswith(".bpmn"):
            continue
        try:
            root = parse_xml(text.encode("utf-8"))
        except (etree.XMLSyntaxError, ValueError):
            continue
        if any(p.get("id") == definition.key for p in processes_in(ParsedFile(name, text, root, False))):
            return name
    return None


def check_deployment(
    session: Session, files: Mapping[str, bytes], roles: Iterable[str] = (), bidang: Iterable[str] = ()
) -> tuple[dict[str, ProcedureBundle], list[dict[str, Any]]]:
    """Validate an upload against what is deployed; return (procedures, problems) without storing.

    Files not uploaded again (a diagram's forms, its DMN) come from the latest version of the
    same procedure only. An upload of only DMN/forms updates the procedures whose latest
    version holds files of those names.
    """
    rules = _rules(roles, bidang)
    first = read_files(files)
    targets, found = targets_of(first)
    found = list(first.problems) + found
    latest = {d.key: d for d in _latest_versions(session)}
    if not any(p.uploaded for p in first.bpmn_files()) and first.uploaded:
        targets = sorted(k for k, d in latest.items() if first.uploaded & set(d.files))
        if not targets:
            found.append(
                problem(
                    sorted(first.uploaded)[0],
                    None,
                    "Berkas ini tidak dipakai oleh prosedur mana pun: unggah bersama diagram (.bpmn) yang memakainya",
                )
            )
    elif not targets:
        found.append(
            problem(
                "",
                None,
                'Tidak ada proses yang dapat dijalankan dalam unggahan: unggah diagram .bpmn dengan proses isExecutable="true"',
            )
        )
    if not first.uploaded and not first.problems:
        found.append(problem("", None, "Tidak ada berkas .bpmn, .dmn atau formulir dalam unggahan"))
    procedures: dict[str, ProcedureBundle] = {}
    if not targets:
        found.extend(file_problems(first, rules))
    for key in targets:
        earlier = latest[key].files if key in latest else {}
        bundle = read_files(files, earlier)
        ready, problems = validate_procedures(bundle, [key], rules)
        found.extend(problems)
        procedures.update(ready)
    return procedures, _dedup(found)


def _dedup(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, result = set(), []
    for item in found:
        marker = (item["file"], item["element_id"], item["message"])
        if marker not in seen:
            seen.add(marker)
            result.append(item)
    return result


def _confirmation_reasons(
    key: str, procedure: ProcedureBundle, latest: ProcessDefinition | None, live: Iterable[str]
) -> list[dict[str, Any]]:
    if latest is None:
        return []
    reasons = []
    earlier_diagram = diagram_of(latest)
    if earlier_diagram and earlier_diagram != procedure.diagram:
        reasons.append(
            problem(
                procedure.diagram,
                key,
                f"Proses '{key}' sudah terpasang dari berkas {earlier_diagram} (versi {latest.version}); "
                f"berkas {procedure.diagram} akan menggantikannya",
            )
        )
    if key in set(live):
        reasons.append(
            problem(
                procedure.diagram,
                key,
                f"Prosedur '{key}' sedang dipakai layanan publik: kasus baru akan memakai versi baru ini",
            )
        )
    return reasons


def deploy_bundle(
    session: Session,
    files: Mapping[str, bytes],
    actor: Actor,
    now: datetime,
    roles: Iterable[str] = (),
    *,
    bidang: Iterable[str] = (),
    live: Iterable[str] = (),
    confirm: bool = False,
    keep_deployed: bool = False,
) -> Deployment:
    """Validate an upload and store a new immutable version of each procedure whose files changed.

    Raises DeploymentInvalid listing every error, or DeploymentNeedsConfirmation (unless
    ``confirm``) when a changed procedure is live (``live``: keys the service catalogue starts)
    or was deployed from another file. ``keep_deployed`` leaves every procedure that has a
    version as it is (``make run`` must not undo what an administrator deployed).
    """
    procedures, found = check_deployment(session, files, roles, bidang)
    errors = [p for p in found if p["severity"] == "error"]
    warnings = [p for p in found if p["severity"] != "error"]
    if errors or not procedures:
        raise DeploymentInvalid("Diagram tidak dapat dipasang", details=errors + warnings)
    live = list(live)
    plan: list[tuple[ProcedureBundle, ProcessDefinition | None, str | None]] = []
    reasons: list[dict[str, Any]] = []
    unchanged: list[str] = []
    kept: list[str] = []
    for key, procedure in sorted(procedures.items()):
        digest = _digest(procedure.files)
        latest = latest_definition(session, key)
        if latest is not None and latest.sha256 == digest:
            unchanged.append(key)
            plan.append((procedure, latest, None))
            continue
        if keep_deployed and latest is not None:
            kept.append(key)
            plan.append((procedure, latest, None))
            continue
        reasons.extend(_confirmation_reasons(key, procedure, latest, live))
        plan.append((procedure, latest, digest))
    if reasons and not confirm:
        raise DeploymentNeedsConfirmation("Pemasangan ini perlu dikonfirmasi", details=reasons)
    versions = []
    for procedure, earlier, new_digest in plan:
        if new_digest is None and earlier is not None:
            versions.append(earlier)
        elif new_digest is not None:
            versions.append(_store(session, procedure, new_digest, earlier, actor, now))
    session.flush()
    return Deployment(versions=versions, warnings=warnings, unchanged=unchanged, kept=kept)


def _store(
    session: Session,
    procedure: ProcedureBundle,
    digest: str,
    latest: ProcessDefinition | None,
    actor: Actor,
    now: datetime,
) -> ProcessDefinition:
    spec_json = json.dumps(
        {
            "spec": SERIALIZER.to_dict(procedure.spec),
            "subprocess_specs": {n: SERIALIZER.to_dict(s) for n, s in procedure.subprocess_specs.items()},
        },
        separators=(",", ":"),
    )
    definition = ProcessDefinition(
        key=procedure.key,
        version=(latest.version + 1) if latest else 1,
        name=procedure.name[:200],
        sha256=digest,
        files=procedure.files,
        spec_json=spec_json,
        deployed_by=actor.username,
        deployed_at=now,
    )
    session.add(definition)
    return definition


def deploy(
    session: Session,
    files: Mapping[str, bytes],
    actor: Actor,
    now: datetime,
    roles: Iterable[str] = (),
    **options: Any,
) -> list[ProcessDefinition]:
    """:func:`deploy_bundle`, returning the versions only."""
    return deploy_bundle(session, files, actor, now, roles, **options).versions


def read_directory(directory: Path) -> dict[str, bytes]:
    """Every .bpmn/.dmn and forms/*.json under ``directory``, by path relative to it."""
    files = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.suffix in {".bpmn", ".dmn", ".json"}:
            files[path.relative_to(directory).as_posix()] = path.read_bytes()
    return files


def deploy_directory(
    session: Session, directory: Path, actor: Actor, now: datetime, roles: Iterable[str] = (), **options: Any
) -> list[ProcessDefinition]:
    """Deploy every .bpmn/.dmn and forms/*.json under ``directory``."""
    return deploy(session, read_directory(directory), actor, now, roles, **options)


_cache: dict[tuple[int, str], LoadedDefinition] = {}
_cache_lock = threading.Lock()


def load_definition(definition: ProcessDefinition) -> LoadedDefinition:
    """Restore a deployed version into SpiffWorkflow objects, once per process."""
    cache_key = (definition.id, definition.sha256)
    loaded = _cache.get(cache_key)
    if loaded is not None:
        return loaded
    stored = json.loads(definition.spec_json)
    spec = SERIALIZER.from_dict(stored["spec"])
    subprocess_specs = {n: SERIALIZER.from_dict(s) for n, s in stored["subprocess_specs"].items()}
    forms = {
        path[len("forms/") :]: json.loads(text) for path, text in definition.files.items() if path.startswith("forms/")
    }
    # tasks of embedded subprocesses and called processes reach the inbox too
    tasks = {t.name: _task_meta(t) for t in human_task_specs([*subprocess_specs.values(), spec])}
    loaded = LoadedDefinition(
        id=definition.id,
        key=definition.key,
        version=definition.version,
        spec=spec,
        subprocess_specs=subprocess_specs,
        forms=forms,
        tasks=tasks,
        outcomes=_end_outcomes(spec),
        end_letters=_end_letters(spec),
    )
    with _cache_lock:
        _cache[cache_key] = loaded
    return loaded


def definition_by_id(session: Session, definition_id: int, sha256: str) -> LoadedDefinition:
    """A case's procedure version when its id and digest are known: no query once cached."""
    loaded = _cache.get((definition_id, sha256))
    if loaded is not None:
        return loaded
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound("Versi prosedur tidak ditemukan")
    return load_definition(definition)


def definition_in_session(session: Session, definition_id: int, sha256: str | None = None) -> LoadedDefinition:
    """A procedure version by id, looked up once per session; no query when ``sha256`` is given."""
    known = session.info.setdefault("sibalang.definitions", {})
    loaded = known.get(definition_id)
    if loaded is None:
        if sha256 is None:
            sha256 = session.scalar(select(ProcessDefinition.sha256).where(ProcessDefinition.id == definition_id))
        if sha256 is None:
            raise NotFound("Versi prosedur tidak ditemukan")
        loaded = known[definition_id] = definition_by_id(session, definition_id, sha256)
    return loaded
