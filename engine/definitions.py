"""Deploying procedures: parse, validate, store an immutable version with its spec once."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from .audit import Actor
from .errors import DeploymentInvalid, NotFound
from .expressions import check_diagram_code
from .models import ProcessDefinition
from .rows import Prepared
from .serialization import SERIALIZER

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)
MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass
class TaskMeta:
    """What the inbox needs to know of a user task, read from the diagram."""

    name: str
    title: str
    role: str | None
    form: str | None
    sla_days: int | None
    due_variable: str | None = None


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

    def form_schema(self, task_name: str) -> dict[str, Any] | None:
        meta = self.tasks.get(task_name)
        if meta is None or meta.form is None:
            return None
        return self.forms.get(meta.form)


def _problem(file: str, element_id: str | None, message: str) -> dict[str, Any]:
    return {"file": file, "element_id": element_id, "message": message}


def _safe_xml(content: bytes, filename: str) -> etree._Element:
    """Parse XML refusing DTDs and entities (XXE, billion laughs) and the network."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    root = etree.fromstring(content, parser)
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise ValueError("DOCTYPE/DTD tidak diizinkan dalam berkas diagram")
    return root


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _owner_id(node: etree._Element) -> str | None:
    while node is not None:
        if node.get("id"):
            return node.get("id")
        node = node.getparent()
    return None


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
    )


def _end_outcomes(spec: Any) -> dict[str, tuple[str, str]]:
    outcomes = {}
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, EndEvent) and task_spec.bpmn_id:
            outcome = _properties(task_spec).get("outcome", "completed")
            reason = (task_spec.documentation or task_spec.bpmn_name or "").strip()
            outcomes[task_spec.bpmn_id] = (outcome, reason)
    return outcomes


def _bundle_from_files(files: Mapping[str, bytes]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    problems = []
    texts: dict[str, str] = {}
    for name, content in files.items():
        clean = name.replace("\\", "/").lstrip("/")
        if clean.startswith("bpmn/"):
            clean = clean[len("bpmn/") :]
        if ".." in clean.split("/") or not clean:
            problems.append(_problem(name, None, "Nama berkas tidak valid"))
            continue
        if len(content) > MAX_FILE_BYTES:
            problems.append(_problem(clean, None, "Berkas terlalu besar (maksimal 2 MB)"))
            continue
        if not clean.endswith((".bpmn", ".dmn", ".json")):
            problems.append(_problem(clean, None, "Hanya berkas .bpmn, .dmn dan forms/*.json yang diterima"))
            continue
        try:
            texts[clean] = content.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(_problem(clean, None, "Berkas harus berupa teks UTF-8"))
    return texts, problems


def validate_bundle(
    files: Mapping[str, bytes], known_files: Mapping[str, str] | None = None, roles: Iterable[str] = ()
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Parse and check a bundle; return ({process_key: info}, problems)."""
    texts, problems = _bundle_from_files(files)
    if not any(name.endswith(".bpmn") for name in texts):
        problems.append(_problem("", None, "Tidak ada berkas .bpmn dalam unggahan"))
    available = dict(known_files or {})
    available.update(texts)
    allowed_roles = set(roles)

    parser = SpiffBpmnParser(validator=VALIDATOR)
    bpmn_roots: dict[str, etree._Element] = {}
    for name in sorted(available):
        if not name.endswith((".bpmn", ".dmn")):
            continue
        is_dmn = name.endswith(".dmn")
        try:
            root = _safe_xml(available[name].encode("utf-8"), name)
        except (etree.XMLSyntaxError, ValueError) as exc:
            if name in texts:
                problems.append(_problem(name, None, f"XML tidak valid: {exc}"))
            continue
        if name not in texts and not is_dmn:
            continue  # earlier diagrams only lend their DMN tables
        code_problems = check_diagram_code(root, name)
        problems.extend(code_problems)
        if is_dmn and code_problems:
            continue  # SpiffWorkflow's DMN parser re-parses entries and can crash on refused ones
        try:
            if is_dmn:
                parser.add_dmn_xml(root, filename=name)
            else:
                if etree.QName(root.tag).namespace != BPMN_NS:
                    problems.append(_problem(name, None, "Bukan berkas BPMN 2.0 (definitions)"))
                    continue
                parser.add_bpmn_xml(root, filename=name)
                bpmn_roots[name] = root
        except ValidationException as exc:
            problems.append(_problem(name, getattr(exc, "id", None) or None, str(exc).splitlines()[0]))
        except (SpiffWorkflowException, etree.LxmlError, KeyError, AttributeError) as exc:
            problems.append(_problem(name, None, f"Diagram tidak dapat dibaca: {exc}"))

    processes: dict[str, dict[str, Any]] = {}
    for name, root in bpmn_roots.items():
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            if process.get("isExecutable", "false").lower() != "true":
                continue
            key = process.get("id")
            try:
                spec = parser.get_spec(key)
                subprocess_specs = parser.get_subprocess_specs(key)
            except (ValidationException, SpiffWorkflowException) as exc:
                problems.append(_problem(name, getattr(exc, "id", None) or key, str(exc).splitlines()[0]))
                continue
            except Exception as exc:  # noqa: BLE001 - the parser raises many kinds; report, never 500
                problems.append(_problem(name, key, f"Diagram tidak dapat diproses: {exc}"))
                continue
            used: dict[str, str] = {name: available[name]}
            used.update({n: t for n, t in available.items() if n.endswith(".dmn")})
            for task_spec in spec.task_specs.values():
                if not isinstance(task_spec, UserTask):
                    continue
                meta = _task_meta(task_spec)
                if not meta.role:
                    problems.append(_problem(name, meta.name, "Tugas pengguna harus berada di lajur (lane) peran"))
                elif allowed_roles and meta.role not in allowed_roles:
                    problems.append(_problem(name, meta.name, f"Lajur '{meta.role}' bukan peran yang dikenal"))
                if not meta.form:
                    problems.append(_problem(name, meta.name, "Tugas pengguna tanpa formJsonSchemaFilename"))
                    continue
                form_path = f"forms/{meta.form}"
                if form_path not in available:
                    problems.append(_problem(name, meta.name, f"Formulir {form_path} tidak ditemukan"))
                    continue
                try:
                    schema = json.loads(available[form_path])
                    Draft202012Validator.check_schema(schema)
                except (ValueError, SchemaError) as exc:
                    problems.append(_problem(form_path, meta.name, f"JSON Schema tidak valid: {exc}"))
                    continue
                used[form_path] = available[form_path]
            processes[key] = {
                "name": process.get("name") or key,
                "spec": spec,
                "subprocess_specs": subprocess_specs,
                "files": used,
            }
    return processes, problems


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
    found = _LATEST_VERSION.all(session, {"key": key})
    if not found:
        raise NotFound(f"Prosedur '{key}' belum dipasang")
    return found[0][0], found[0][1]


_LATEST_VERSION = Prepared(
    select(ProcessDefinition.id, ProcessDefinition.sha256)
    .where(ProcessDefinition.key == bindparam("key"))
    .order_by(ProcessDefinition.version.desc())
    .limit(1)
)


def _known_files(session: Session) -> dict[str, str]:
    latest = (
        select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    rows = session.scalars(
        select(ProcessDefinition).join(
            latest,
            (ProcessDefinition.key == latest.c.key) & (ProcessDefinition.version == latest.c.version),
        )
    )
    known: dict[str, str] = {}
    for row in rows:
        known.update(row.files)
    return known


def deploy(
    session: Session,
    files: Mapping[str, bytes],
    actor: Actor,
    now: datetime,
    roles: Iterable[str] = (),
) -> list[ProcessDefinition]:
    """Validate a bundle and store a new immutable version of each process in it.

    A process whose files are identical to its latest version is not stored again.
    Raises DeploymentInvalid with every problem found.
    """
    processes, problems = validate_bundle(files, _known_files(session), roles)
    if problems:
        raise DeploymentInvalid("Diagram tidak dapat dipasang", details=problems)
    deployed = []
    for key, info in sorted(processes.items()):
        digest = _digest(info["files"])
        latest = latest_definition(session, key)
        if latest is not None and latest.sha256 == digest:
            deployed.append(latest)
            continue
        spec_json = json.dumps(
            {
                "spec": SERIALIZER.to_dict(info["spec"]),
                "subprocess_specs": {name: SERIALIZER.to_dict(sub) for name, sub in info["subprocess_specs"].items()},
            },
            separators=(",", ":"),
        )
        definition = ProcessDefinition(
            key=key,
            version=(latest.version + 1) if latest else 1,
            name=info["name"],
            sha256=digest,
            files=info["files"],
            spec_json=spec_json,
            deployed_by=actor.username,
            deployed_at=now,
        )
        session.add(definition)
        deployed.append(definition)
    session.flush()
    return deployed


def deploy_directory(session: Session, directory: Path, actor: Actor, now: datetime, roles: Iterable[str] = ()):
    """Deploy every .bpmn/.dmn and forms/*.json under ``directory``."""
    files = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.suffix in {".bpmn", ".dmn", ".json"}:
            files[path.relative_to(directory).as_posix()] = path.read_bytes()
    return deploy(session, files, actor, now, roles)


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
    tasks = {}
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, UserTask):
            meta = _task_meta(task_spec)
            tasks[task_spec.name] = meta
    loaded = LoadedDefinition(
        id=definition.id,
        key=definition.key,
        version=definition.version,
        spec=spec,
        subprocess_specs=subprocess_specs,
        forms=forms,
        tasks=tasks,
        outcomes=_end_outcomes(spec),
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


_DIGEST = Prepared(select(ProcessDefinition.sha256).where(ProcessDefinition.id == bindparam("id")))


def definition_in_session(session: Session, definition_id: int, sha256: str | None = None) -> LoadedDefinition:
    """A procedure version by id, looked up once per session; no query when ``sha256`` is given."""
    known = session.info.setdefault("sibalang.definitions", {})
    loaded = known.get(definition_id)
    if loaded is None:
        if sha256 is None:
            found = _DIGEST.all(session, {"id": definition_id})
            sha256 = found[0][0] if found else None
        if sha256 is None:
            raise NotFound("Versi prosedur tidak ditemukan")
        loaded = known[definition_id] = definition_by_id(session, definition_id, sha256)
    return loaded
