"""Every piece of code SpiffWorkflow evaluates in a BPMN or DMN file, found and checked.

:func:`find_diagram_code` lists, with element id and line, each expression or script that
SpiffWorkflow 3.2's parsers read and its engine later evaluates (see the table below, taken from
``SpiffWorkflow/bpmn/parser``, ``spiff/parser`` and ``dmn/parser`` and the ``script_engine``
calls in ``bpmn/specs``, ``spiff/specs`` and ``dmn/engine``); :func:`check_diagram_code` runs
each through the sandbox's own rules (:func:`engine.sandbox_rules.compile_diagram_code`, the
function the runtime uses) and returns the problems. It never raises: whatever the upload, each
refusal is one problem with an Indonesian message quoting the code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .errors import UnsafeExpression
from .sandbox_rules import compile_diagram_code, is_juel, shorten

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"

# (namespace, local name) -> (mode, label); the text of the element is the code.
_BPMN_CODE: dict[tuple[str, str], tuple[str, str]] = {
    (BPMN_NS, "conditionExpression"): ("eval", "Kondisi alur"),
    (BPMN_NS, "script"): ("exec", "Skrip"),
    (BPMN_NS, "loopCardinality"): ("eval", "Kardinalitas multi-instance"),
    (BPMN_NS, "completionCondition"): ("eval", "Kondisi selesai"),
    (BPMN_NS, "loopCondition"): ("eval", "Kondisi perulangan"),
    (BPMN_NS, "timeDate"): ("eval", "Ekspresi timer"),
    (BPMN_NS, "timeDuration"): ("eval", "Ekspresi timer"),
    (BPMN_NS, "timeCycle"): ("eval", "Ekspresi timer"),
    (BPMN_NS, "condition"): ("eval", "Kondisi event"),
    (SPIFF_NS, "preScript"): ("exec", "Pra-skrip"),
    (SPIFF_NS, "postScript"): ("exec", "Pasca-skrip"),
    (SPIFF_NS, "messagePayload"): ("eval", "Isi pesan"),
    (SPIFF_NS, "payloadExpression"): ("eval", "Isi event"),
}
# Correlation retrieval expressions: BPMN formalExpression/messagePath inside
# correlationPropertyRetrievalExpression, and spiffworkflow:expression inside
# processVariableCorrelation.
_CORRELATION_PARENTS = {(BPMN_NS, "correlationPropertyRetrievalExpression"), (SPIFF_NS, "processVariableCorrelation")}
_CORRELATION_CHILDREN = {(BPMN_NS, "formalExpression"), (BPMN_NS, "messagePath"), (SPIFF_NS, "expression")}
# SpiffWorkflow's DMN engine replaces an unquoted '?' in an input entry by the input's value.
_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


@dataclass(frozen=True)
class DiagramCode:
    """One expression or script of a diagram file, where it is and how it is evaluated."""

    file: str
    element_id: str | None
    line: int | None
    label: str
    mode: str  # "eval" or "exec"
    source: str
    checked: str | None = None  # what SpiffWorkflow really evaluates, when it differs (DMN)


def _qname(node: Any) -> tuple[str, str]:
    if not isinstance(node.tag, str):
        return ("", "")
    name = etree.QName(node.tag)
    return (name.namespace or "", name.localname)


def _owner_id(node: Any) -> str | None:
    """The id of the diagram element holding ``node`` (extension elements' own ids are skipped)."""
    while node is not None:
        if node.get("id") and _qname(node)[0] != SPIFF_NS:
            return node.get("id")
        node = node.getparent()
    return None


def _text(node: Any) -> str:
    return (node.text or "").strip()


def _bpmn_code(root: Any, filename: str) -> list[DiagramCode]:
    found = []
    for node in root.iter():
        key = _qname(node)
        parent = node.getparent()
        entry = _BPMN_CODE.get(key)
        if entry is None and parent is not None and _qname(parent) in _CORRELATION_PARENTS:
            # SpiffWorkflow takes the first child of a retrieval expression, whatever its name
            first_child = next((c for c in parent if isinstance(c.tag, str)), None)
            if key in _CORRELATION_CHILDREN or (node is first_child and _qname(parent)[0] == BPMN_NS):
                entry = ("eval", "Ekspresi korelasi pesan")
        if entry is not None and _text(node):
            mode, label = entry
            source = node.text if mode == "exec" else _text(node)
            found.append(DiagramCode(filename, _owner_id(node), node.sourceline, label, mode, source))
        elif key == (SPIFF_NS, "parameter") and node.get("value"):
            # spiffworkflow:serviceTaskOperator parameters are evaluated before the call
            found.append(
                DiagramCode(filename, _owner_id(node), node.sourceline, "Parameter layanan", "eval", node.get("value"))
            )
    return found


def _dmn_entry_expression(input_expression: str | None, entry: str) -> str:
    """The expression SpiffWorkflow's DMNEngine.evaluate builds for an input entry."""
    if _QUESTION_MARK.search(entry):
        return _QUESTION_MARK.sub("dmninputexpr", entry)
    input_expression = input_expression or "None"
    try:
        ast.parse(entry)
        return f"({input_expression}) == ({entry})"
    except SyntaxError:
        return input_expression + entry


def _dmn_code(root: Any, filename: str) -> list[DiagramCode]:
    found = []
    for table in root.iter():
        if _qname(table)[1] != "decisionTable":
            continue
        inputs: list[str | None] = []
        for child in table:
            name = _qname(child)[1]
            if name == "input":
                expression = next((n for n in child.iter() if _qname(n)[1] == "inputExpression"), None)
                text = next((n for n in expression if _qname(n)[1] == "text"), None) if expression is not None else None
                inputs.append(_text(text) if text is not None and _text(text) else None)
                if text is not None and _text(text):
                    found.append(
                        DiagramCode(
                            filename, _owner_id(text), text.sourceline, "Ekspresi input DMN", "eval", _text(text)
                        )
                    )
            elif name == "rule":
                found.extend(_dmn_rule_code(child, inputs, filename))
    return found


def _dmn_rule_code(rule: Any, inputs: list[str | None], filename: str) -> list[DiagramCode]:
    found = []
    index = 0
    for entry in rule:
        kind = _qname(entry)[1]
        if kind not in ("inputEntry", "outputEntry"):
            continue
        if kind == "inputEntry":
            index += 1
        text = next((n for n in entry if _qname(n)[1] == "text"), None)
        if text is None:
            continue
        source = _text(text)
        if kind == "inputEntry":
            column = inputs[index - 1] if index - 1 < len(inputs) else None
            if source and source != "-" and is_juel(source):
                found.append(
                    DiagramCode(filename, _owner_id(entry), text.sourceline, "Entri input DMN", "eval", source)
                )
            elif source and source != "-":
                try:
                    checked = _dmn_entry_expression(column, source)
                except (RecursionError, MemoryError, ValueError):
                    checked = source  # too complex to combine: the check reports it
                found.append(
                    DiagramCode(filename, _owner_id(entry), text.sourceline, "Entri input DMN", "eval", source, checked)
                )
        elif source:
            found.append(DiagramCode(filename, _owner_id(entry), text.sourceline, "Entri output DMN", "eval", source))
    return found


def find_diagram_code(root: Any, filename: str) -> list[DiagramCode]:
    """Every expression/script SpiffWorkflow evaluates in the parsed BPMN or DMN file ``root``."""
    if filename.endswith(".dmn"):
        return _dmn_code(root, filename)
    return _bpmn_code(root, filename)


def _problem(code: DiagramCode, message: str) -> dict[str, Any]:
    return {"file": code.file, "element_id": code.element_id, "line": code.line, "message": message}


def check_diagram_code(root: Any, filename: str) -> list[dict[str, Any]]:
    """Check every expression/script of one file by the sandbox's rules; return the problems.

    Never raises. A DMN input entry whose column's input expression is refused is not checked
    again (the input expression's problem is reported once).
    """
    problems: list[dict[str, Any]] = []
    try:
        found = find_diagram_code(root, filename)
    except Exception as exc:  # noqa: BLE001 - a malformed tree must be a problem, never a 500
        return [
            {"file": filename, "element_id": None, "line": None, "message": f"Diagram tidak dapat diperiksa: {exc}"}
        ]
    refused_inputs: set[str] = set()
    for code in found:
        if code.label == "Entri input DMN" and code.checked and any(i in code.checked for i in refused_inputs):
            continue
        try:
            compile_diagram_code(code.checked or code.source, code.mode)
        except UnsafeExpression as exc:
            message = exc.message
            if code.checked and code.checked != code.source:
                message = f"{message} (entri «{shorten(code.source, 60)}»)"
            problems.append(_problem(code, f"{code.label}: {message}"))
            if code.label == "Ekspresi input DMN":
                refused_inputs.add(code.source)
        except Exception as exc:  # noqa: BLE001 - never a 500, whatever the code
            problems.append(_problem(code, f"{code.label} tidak dapat diperiksa ({type(exc).__name__})"))
    return problems
