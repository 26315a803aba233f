"""The rules a procedure must pass before it is deployed, each finding with its element id.

SpiffWorkflow parses what it can run; it does not say whether a diagram makes sense for this
service (a task no role will see, a gateway whose conditions miss an outcome, a step nobody can
reach, a timer that can never fire). These rules read the diagram's XML (graph checks, done
iteratively so a 5,000-element chain is fine) and the parsed task specs (lanes as the engine
will see them, inside subprocesses and called processes too). No maintained library checks
these domain rules, hence hand-written.
"""

from __future__ import annotations

import ast
import json
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask

from .bundle import BPMN_NS, Bundle, ParsedFile, element_line, problem, spiff_properties
from .expressions import check_diagram_code

ACTIVITY_TAGS = {
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "transaction",
    "adHocSubProcess",
}
SCOPE_TAGS = {"subProcess", "transaction", "adHocSubProcess"}
FLOW_NODE_TAGS = ACTIVITY_TAGS | {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "exclusiveGateway",
    "inclusiveGateway",
    "parallelGateway",
    "eventBasedGateway",
    "complexGateway",
}
_ISO_NAME = re.compile(r"^(R\d*/?)?P\w+$|^\d{4}-\d{2}-\d{2}", re.IGNORECASE)


# roles that never work on a case's tasks: a task in their lane would reach no inbox
NOT_WORKING_ROLES = frozenset({"admin", "auditor", "applicant"})


@dataclass
class Rules:
    """What the agency allows: roles that work in an inbox, bidang names DMN tables may route to."""

    roles: frozenset[str]
    bidang: frozenset[str]


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _owner_id(node: etree._Element | None) -> str | None:
    while node is not None:
        if isinstance(node.tag, str) and node.get("id"):
            return node.get("id")
        node = node.getparent()
    return None


def _children(scope: etree._Element, tags: set[str]) -> list[etree._Element]:
    return [c for c in scope if _local(c.tag) in tags and etree.QName(c.tag).namespace == BPMN_NS]


def scopes(process: etree._Element) -> Iterator[etree._Element]:
    """The process and every (nested) subprocess inside it: each has its own flow graph."""
    todo = [process]
    while todo:
        scope = todo.pop()
        yield scope
        todo.extend(_children(scope, SCOPE_TAGS))


# --- expressions and scripts ---------------------------------------------------------------


def expression_problems(parsed: ParsedFile) -> list[dict[str, Any]]:
    """Every expression and script, by the sandbox's own check (``engine.expressions``)."""
    return [
        problem(p["file"], p.get("element_id"), p["message"], line=p.get("line"))
        for p in check_diagram_code(parsed.root, parsed.name)
    ]


# --- timers -------------------------------------------------------------------------------


def timer_problems(parsed: ParsedFile) -> list[dict[str, Any]]:
    """A timer's expression must be a valid ISO 8601 text literal, or an expression (a variable)."""
    found = []
    checks = {
        "timeDuration": (TimerEventDefinition.parse_iso_duration, 'durasi ISO 8601, mis. "P14D" atau "PT2H"'),
        "timeDate": (TimerEventDefinition.get_datetime, 'tanggal-waktu ISO 8601, mis. "2026-12-31T09:00:00+08:00"'),
        "timeCycle": (TimerEventDefinition.parse_iso_recurring_interval, 'pengulangan ISO 8601, mis. "R3/PT1H"'),
    }
    for node in parsed.root.iter(*(f"{{{BPMN_NS}}}{t}" for t in checks)):
        text = (node.text or "").strip()
        parse, expected = checks[_local(node.tag)]
        definition = node.getparent()  # the timerEventDefinition; name its event
        element = _owner_id(definition.getparent() if definition is not None else node)
        if not text:
            found.append(problem(parsed.name, element, f"Timer tanpa nilai: isi dengan {expected}"))
            continue
        try:
            tree = ast.parse(text, mode="eval")
        except (SyntaxError, RecursionError, ValueError, MemoryError):
            tree = None
        looks_iso = bool(_ISO_NAME.match(text))  # unquoted: Python would read a name or a subtraction
        if tree is None or looks_iso:
            if looks_iso and _parses(parse, text):
                message = f'Nilai timer «{text}» harus ditulis sebagai teks dalam tanda kutip: "{text}"'
            elif looks_iso:
                message = f"Nilai timer «{text}» bukan {expected}"
            else:
                message = f"Nilai timer «{text[:80]}» bukan {expected} maupun ekspresi yang valid"
            found.append(problem(parsed.name, element, message, line=element_line(node)))
            continue
        body = tree.body
        if isinstance(body, ast.Constant):
            try:
                if not isinstance(body.value, str):
                    raise ValueError
                parse(body.value)
            except Exception:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for a bad duration
                found.append(
                    problem(
                        parsed.name,
                        element,
                        f"Nilai timer {body.value!r} tidak valid: harus {expected}",
                        line=element_line(node),
                    )
                )
    return found


def _parses(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for a bad duration
        return False
    return True


# --- forms ------------------------------------------------------------------------------------


def form_schema(bundle: Bundle, path: str) -> tuple[dict[str, Any] | None, str | None]:
    """The parsed JSON Schema at ``path`` or a short Indonesian reason why it is not usable."""
    text = bundle.texts.get(path)
    if text is None:
        return None, f"Formulir {path} tidak ditemukan: unggah berkasnya bersama diagram"
    try:
        schema = json.loads(text)
    except ValueError as exc:
        return None, f"Formulir {path} bukan JSON yang valid (baris {getattr(exc, 'lineno', '?')})"
    if not isinstance(schema, dict):
        return None, f"Formulir {path} harus berupa objek JSON Schema"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = exc.json_path if exc.json_path != "$" else "akar skema"
        return None, f"JSON Schema {path} tidak valid di {where}: {exc.message[:160]}"
    except (RecursionError, ValueError):
        return None, f"JSON Schema {path} terlalu bersarang"
    return schema, None


def decision_values(schema: dict[str, Any] | None) -> list[str] | None:
    """The outcomes a form offers in its ``decision`` field (the routing convention)."""
    if not schema:
        return None
    prop = (schema.get("properties") or {}).get("decision")
    if not isinstance(prop, dict):
        return None
    values = prop.get("enum") or [o.get("const") for o in prop.get("oneOf") or [] if isinstance(o, dict)]
    return [v for v in values if isinstance(v, str)] or None


# --- the flow graph: reachability, dead ends, gateways ---------------------------------------


@dataclass
class _Graph:
    nodes: dict[str, etree._Element]
    flows: dict[str, etree._Element]
    outgoing: dict[str, list[str]]
    incoming: dict[str, list[str]]


def _graph(scope: etree._Element) -> _Graph:
    nodes = {n.get("id") or "": n for n in _children(scope, FLOW_NODE_TAGS) if n.get("id")}
    flows = {f.get("id") or "": f for f in _children(scope, {"sequenceFlow"}) if f.get("id")}
    outgoing: dict[str, list[str]] = {n: [] for n in nodes}
    incoming: dict[str, list[str]] = {n: [] for n in nodes}
    for flow in flows.values():
        source, target = flow.get("sourceRef") or "", flow.get("targetRef") or ""
        if source in nodes and target in nodes:
            outgoing[source].append(target)
            incoming[target].append(source)
    # a boundary event continues from its activity; a link throw continues at its catch
    links: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        link = node.find(f"{{{BPMN_NS}}}linkEventDefinition")
        if link is not None and _local(node.tag) == "intermediateCatchEvent":
            links.setdefault(link.get("name") or "", []).append(node_id)
    for node_id, node in nodes.items():
        tag = _local(node.tag)
        if tag == "boundaryEvent" and (node.get("attachedToRef") or "") in nodes:
            outgoing[node.get("attachedToRef") or ""].append(node_id)
            incoming[node_id].append(node.get("attachedToRef") or "")
        link = node.find(f"{{{BPMN_NS}}}linkEventDefinition")
        if link is not None and tag == "intermediateThrowEvent":
            for target in links.get(link.get("name") or "", []):
                outgoing[node_id].append(target)
                incoming[target].append(node_id)
    return _Graph(nodes, flows, outgoing, incoming)


def _walk(starts: Iterable[str], edges: dict[str, list[str]]) -> set[str]:
    seen = set(starts)
    todo = deque(seen)
    while todo:
        for nxt in edges.get(todo.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _exempt(node: etree._Element) -> bool:
    return node.get("isForCompensation") == "true" or node.get("triggeredByEvent") == "true"


def flow_problems(name: str, process: etree._Element) -> list[dict[str, Any]]:
    """Unreachable elements, dead ends and flows that lead nowhere, scope by scope."""
    found = []
    for scope in scopes(process):
        graph = _graph(scope)
        for flow_id, flow in graph.flows.items():
            for end in ("sourceRef", "targetRef"):
                if (flow.get(end) or "") not in graph.nodes:
                    found.append(
                        problem(
                            name,
                            flow_id,
                            f"Alur mengacu ke elemen '{flow.get(end)}' yang tidak ada",
                            line=element_line(flow),
                        )
                    )
        starts = [n for n, el in graph.nodes.items() if _local(el.tag) == "startEvent"]
        if not starts and graph.nodes:
            starts = [n for n, ins in graph.incoming.items() if not ins and not _exempt(graph.nodes[n])]
        if not starts and graph.nodes and scope is process:
            found.append(problem(name, process.get("id"), "Proses tidak memiliki peristiwa awal (start event)"))
        reached = _walk(starts, graph.outgoing)
        for node_id, node in graph.nodes.items():
            if node_id not in reached and not _exempt(node):
                label = node.get("name") or node_id
                found.append(
                    problem(
                        name,
                        node_id,
                        f"Elemen «{label}» tidak dapat dicapai dari awal proses: hubungkan dengan alur masuk",
                        line=element_line(node),
                    )
                )
        terminals = [
            n
            for n, el in graph.nodes.items()
            if _local(el.tag) == "endEvent" or (not graph.outgoing[n] and _local(el.tag) != "boundaryEvent")
        ]
        finishing = _walk(terminals, graph.incoming)
        for node_id in sorted(reached - finishing):
            node = graph.nodes[node_id]
            label = node.get("name") or node_id
            found.append(
                problem(
                    name,
                    node_id,
                    f"Jalan buntu: dari «{label}» proses tidak pernah dapat selesai (tidak ada jalan ke peristiwa akhir)",
                    line=element_line(node),
                )
            )
        for node_id, node in graph.nodes.items():
            tag = _local(node.tag)
            if not graph.outgoing[node_id] and tag not in {"endEvent", "boundaryEvent"} and not _exempt(node):
                if node_id in reached:
                    found.append(
                        problem(
                            name,
                            node_id,
                            f"«{node.get('name') or node_id}» tidak memiliki alur keluar: tambahkan alur ke langkah berikut atau peristiwa akhir",
                            line=element_line(node),
                            severity="warning",
                        )
                    )
    return found


def _covered(condition: str) -> set[str] | None:
    """Values of ``decision`` a condition selects, if it is a plain test of ``decision``."""
    try:
        tree = ast.parse(condition, mode="eval").body
    except (SyntaxError, RecursionError, ValueError, MemoryError):
        return None
    if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.Or):
        parts = [_covered(ast.unparse(v)) for v in tree.values]
        return None if any(p is None for p in parts) else set().union(*parts)  # type: ignore[arg-type]
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1 and isinstance(tree.left, ast.Name)):
        return None
    if tree.left.id != "decision":
        return None
    op, right = tree.ops[0], tree.comparators[0]
    if isinstance(op, ast.Eq) and isinstance(right, ast.Constant) and isinstance(right.value, str):
        return {right.value}
    if isinstance(op, ast.In) and isinstance(right, ast.Tuple | ast.List | ast.Set):
        values = {e.value for e in right.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
        return values if len(values) == len(right.elts) else None
    return None


def _some(values: list[str], shown: int = 5) -> str:
    more = f" (+{len(values) - shown} lagi)" if len(values) > shown else ""
    return ", ".join(values[:shown]) + more


def _deciding_tasks(graph: _Graph, gateway_id: str) -> list[etree._Element]:
    """The user tasks whose outcome reaches this gateway without passing another user task."""
    found, seen, todo = [], {gateway_id}, deque(graph.incoming.get(gateway_id, []))
    while todo:
        node_id = todo.popleft()
        if node_id in seen:
            continue
        seen.add(node_id)
        node = graph.nodes[node_id]
        if _local(node.tag) == "userTask":
            found.append(node)
        elif _local(node.tag) not in {"startEvent", "boundaryEvent"}:
            todo.extend(graph.incoming.get(node_id, []))
    return found


def gateway_problems(name: str, process: etree._Element, bundle: Bundle) -> list[dict[str, Any]]:
    """Exclusive gateways: a default flow, and conditions covering every ``decision`` value."""
    found = []
    for scope in scopes(process):
        graph = _graph(scope)
        for node_id, node in graph.nodes.items():
            if _local(node.tag) != "exclusiveGateway":
                continue
            outs = [f for f in graph.flows.values() if f.get("sourceRef") == node_id]
            if len(outs) < 2:
                continue
            label = node.get("name") or node_id
            default = node.get("default")
            conditions = {}
            for flow in outs:
                expr = flow.find(f"{{{BPMN_NS}}}conditionExpression")
                text = (expr.text or "").strip() if expr is not None else ""
                if flow.get("id") != default:
                    if not text:
                        found.append(
                            problem(
                                name,
                                flow.get("id"),
                                f"Alur dari gerbang «{label}» tanpa kondisi: beri kondisi atau jadikan alur bawaan (default)",
                                line=element_line(flow),
                            )
                        )
                    else:
                        conditions[flow.get("id")] = text
            covered: set[str] | None = set()
            for text in conditions.values():
                values = _covered(text)
                covered = None if values is None or covered is None else covered | values
            for task in _deciding_tasks(graph, node_id):
                form = spiff_properties(task).get("formJsonSchemaFilename")
                offered = decision_values(form_schema(bundle, f"forms/{form}")[0]) if form else None
                if offered is None or covered is None:
                    continue
                missing = [v for v in offered if v not in covered]
                if missing and not default:
                    found.append(
                        problem(
                            name,
                            node_id,
                            f"Gerbang «{label}» tidak menangani keputusan {_some(missing)} dari formulir {form}"
                            " dan tidak memiliki alur bawaan: kasus akan macet",
                            line=element_line(node),
                        )
                    )
                unknown = sorted(covered - set(offered))
                if unknown:
                    found.append(
                        problem(
                            name,
                            node_id,
                            f"Gerbang «{label}» menguji keputusan {_some(unknown)} yang tidak ada di formulir {form}",
                            line=element_line(node),
                        )
                    )
            if not default:
                found.append(
                    problem(
                        name,
                        node_id,
                        f"Gerbang «{label}» tanpa alur bawaan (default): tandai satu alur sebagai default",
                        line=element_line(node),
                        severity="warning",
                    )
                )
    return found


# --- lanes and forms of the tasks people do ----------------------------------------------------


def human_task_specs(specs: Iterable[Any]) -> Iterator[Any]:
    for spec in specs:
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, UserTask | ManualTask):
                yield task_spec


def task_problems(name: str, specs: Iterable[Any], bundle: Bundle, rules: Rules) -> list[dict[str, Any]]:
    """Every user/manual task (also in subprocesses and called processes) in a working role's lane."""
    found = []
    for task_spec in human_task_specs(specs):
        element = task_spec.bpmn_id or task_spec.name
        label = task_spec.bpmn_name or element
        file = getattr(task_spec, "filename", None) or name
        lane = task_spec.lane
        if not lane:
            found.append(
                problem(
                    file,
                    element,
                    f"Tugas «{label}» tidak berada di lajur (lane) mana pun: letakkan di lajur peran yang mengerjakannya",
                )
            )
        elif lane in NOT_WORKING_ROLES or (rules.roles and lane not in rules.roles):
            allowed = ", ".join(sorted(rules.roles)) or "peran staf"
            found.append(
                problem(
                    file,
                    element,
                    f"Lajur '{lane}' dari tugas «{label}» bukan peran yang bekerja di kotak masuk (pilih: {allowed})",
                )
            )
        props = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
        form = props.get("formJsonSchemaFilename")
        if isinstance(task_spec, UserTask) and not form:
            found.append(problem(file, element, f"Tugas «{label}» tanpa formulir (formJsonSchemaFilename)"))
        for key in ("formJsonSchemaFilename", "formUiSchemaFilename"):
            if props.get(key):
                _, reason = form_schema(bundle, f"forms/{props[key]}")
                if reason:
                    found.append(problem(file, element, reason))
        sla = props.get("slaDays")
        if sla and not str(sla).isdigit():
            found.append(problem(file, element, f"slaDays «{sla}» harus bilangan bulat hari kerja"))
    return found


# --- DMN ------------------------------------------------------------------------------------------


def dmn_problems(parsed: ParsedFile, rules: Rules) -> list[dict[str, Any]]:
    """A DMN file holds decisions; outputs named like ``bidang`` route only to known bidang."""
    decisions = [n for n in parsed.root.iter() if _local(n.tag) == "decision"]
    if not decisions:
        return [problem(parsed.name, None, "Berkas DMN tidak berisi keputusan (decision) apa pun")]
    found = []
    for decision in decisions:
        if not any(_local(n.tag) == "decisionTable" for n in decision.iter()):
            found.append(
                problem(
                    parsed.name,
                    decision.get("id"),
                    f"Keputusan {decision.get('id')} tidak berisi tabel keputusan (decisionTable)",
                )
            )
        for table in (n for n in decision.iter() if _local(n.tag) == "decisionTable"):
            outputs = [n for n in table if _local(n.tag) == "output"]
            for rule in (n for n in table if _local(n.tag) == "rule"):
                entries = [n for n in rule if _local(n.tag) == "outputEntry"]
                for output, entry in zip(outputs, entries, strict=False):
                    if "bidang" not in (output.get("name") or "").lower():
                        continue
                    text = "".join(entry.itertext()).strip()
                    value = _literal(text)
                    if value is not None and rules.bidang and value not in rules.bidang:
                        known = ", ".join(sorted(rules.bidang))
                        found.append(
                            problem(
                                parsed.name,
                                rule.get("id") or decision.get("id"),
                                f"Keputusan {decision.get('id')} mengarah ke bidang «{value}» yang tidak dikenal (pilih: {known})",
                                line=element_line(entry),
                            )
                        )
    return found


def _literal(text: str) -> str | None:
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, RecursionError, ValueError, MemoryError):
        return None
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
