"""A deployment bundle: the uploaded files, decoded and parsed safely, and what each one holds.

Reading is kept apart from the rules (``engine/diagram_checks.py``) and from storing versions
(``engine/definitions.py``). XML goes through lxml with DTDs, entities and the network off;
the XML-schema check uses the BPMN 2.0 XSD SpiffWorkflow ships, collecting *every* error with
its line (SpiffWorkflow's own validator stops at the last one).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "https://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_PROBLEMS_PER_FILE = 50


def problem(
    file: str, element_id: str | None, message: str, *, line: int | None = None, severity: str = "error"
) -> dict[str, Any]:
    """One finding: errors refuse a deployment, warnings are shown but do not."""
    return {"file": file, "element_id": element_id, "line": line, "message": message, "severity": severity}


@dataclass
class ParsedFile:
    """One .bpmn or .dmn file of the bundle, parsed."""

    name: str
    text: str
    root: etree._Element
    uploaded: bool


@dataclass
class Bundle:
    """Files of one deployment: text by path (``forms/x.json`` for forms) and parsed XML."""

    texts: dict[str, str] = field(default_factory=dict)
    xml: dict[str, ParsedFile] = field(default_factory=dict)
    uploaded: set[str] = field(default_factory=set)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def bpmn_files(self) -> list[ParsedFile]:
        return [f for n, f in sorted(self.xml.items()) if n.endswith(".bpmn")]

    def dmn_files(self) -> list[ParsedFile]:
        return [f for n, f in sorted(self.xml.items()) if n.endswith(".dmn")]


def clean_name(name: str) -> str | None:
    """The path a file is stored under (``forms/x.json``), or None if it is not acceptable."""
    clean = (name or "").replace("\\", "/").strip().lstrip("/")
    if clean.startswith("bpmn/"):
        clean = clean[len("bpmn/") :]
    if not clean or ".." in clean.split("/") or any(ord(c) < 32 for c in clean) or len(clean) > 200:
        return None
    return clean


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


def parse_xml(content: bytes) -> etree._Element:
    """Parse XML (any encoding lxml detects: UTF-8, UTF-16 with BOM…) refusing DTDs and entities."""
    root = etree.fromstring(content, _safe_parser())
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise ValueError("DOCTYPE/DTD tidak diizinkan dalam berkas diagram")
    return root


def _xml_text(content: bytes, root: etree._Element) -> str:
    """The file as UTF-8 text: kept byte for byte when it already is, re-encoded otherwise."""
    if not content.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if "encoding=" not in text[:200] or "utf-8" in text[:200].lower():
                return text
    return etree.tostring(root.getroottree(), encoding="unicode")


def _json_text(content: bytes) -> str:
    return content.decode(json.detect_encoding(content)).lstrip("\ufeff")


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def read_files(files: Mapping[str, bytes], earlier: Mapping[str, str] | None = None) -> Bundle:
    """Decode and parse uploaded files (plus ``earlier`` stored files not uploaded again)."""
    bundle = Bundle()
    for name, content in files.items():
        clean = clean_name(name)
        if clean is None:
            bundle.problems.append(problem(name[:200], None, "Nama berkas tidak valid"))
            continue
        if len(content) > MAX_FILE_BYTES:
            bundle.problems.append(problem(clean, None, "Berkas terlalu besar (maksimal 2 MB)"))
            continue
        if clean.endswith(".json") and not clean.startswith("forms/"):
            clean = f"forms/{clean}"
        if not clean.endswith((".bpmn", ".dmn", ".json")):
            bundle.problems.append(problem(clean, None, "Hanya berkas .bpmn, .dmn dan forms/*.json yang diterima"))
            continue
        if clean.endswith(".json"):
            try:
                bundle.texts[clean] = _json_text(content)
            except (UnicodeDecodeError, LookupError):
                bundle.problems.append(problem(clean, None, "Formulir harus berupa teks JSON (UTF-8)"))
                continue
            bundle.uploaded.add(clean)
            continue
        try:
            root = parse_xml(content)
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if getattr(exc, "lineno", None) else None
            bundle.problems.append(problem(clean, None, f"XML tidak valid: {exc.msg}", line=line))
            continue
        except ValueError as exc:
            bundle.problems.append(problem(clean, None, str(exc)))
            continue
        bundle.texts[clean] = _xml_text(content, root)
        bundle.xml[clean] = ParsedFile(clean, bundle.texts[clean], root, True)
        bundle.uploaded.add(clean)
    for name, text in (earlier or {}).items():
        if name in bundle.texts:
            continue
        bundle.texts[name] = text
        if name.endswith((".bpmn", ".dmn")):
            try:
                bundle.xml[name] = ParsedFile(name, text, parse_xml(text.encode("utf-8")), False)
            except (etree.XMLSyntaxError, ValueError):
                continue
    return bundle


def schema_problems(parsed: ParsedFile) -> list[dict[str, Any]]:
    """Every BPMN 2.0 XSD error of a diagram, each with its line and the nearest element id."""
    root = parsed.root
    if etree.QName(root.tag).namespace != BPMN_NS or _local(root.tag) != "definitions":
        return [problem(parsed.name, None, "Bukan berkas BPMN 2.0: elemen akar harus bpmn:definitions")]
    # SpiffWorkflow's fix-up of what bpmn-js writes for correlation properties, on a copy
    copy = etree.fromstring(etree.tostring(root), _safe_parser())
    VALIDATOR.preprocess(copy)
    schema = VALIDATOR.validator
    if schema.validate(copy):
        return []
    found = []
    for error in list(schema.error_log)[:MAX_PROBLEMS_PER_FILE]:
        found.append(
            problem(
                parsed.name,
                _element_at(copy, error.path),
                f"Tidak sesuai skema BPMN 2.0: {_schema_message(error.message)}",
                line=error.line or None,
            )
        )
    return found


def _element_at(root: etree._Element, path: str | None) -> str | None:
    if not path:
        return None
    try:
        nodes = root.xpath(path, namespaces={k: v for k, v in root.nsmap.items() if k})
    except etree.XPathError:
        return None
    node = nodes[0] if isinstance(nodes, list) and nodes else None
    while node is not None:
        if isinstance(node.tag, str) and node.get("id"):
            return str(node.get("id"))
        node = node.getparent()
    return None


def _schema_message(message: str) -> str:
    """lxml's XSD message with namespace URIs shortened to their usual prefixes."""
    short = message
    for uri, prefix in ((BPMN_NS, "bpmn"), (SPIFF_NS, "spiffworkflow")):
        short = short.replace("{" + uri + "}", prefix + ":")
    return short[:300]


def element_line(node: etree._Element) -> int | None:
    line = getattr(node, "sourceline", None)
    return int(line) if line else None


def decisions_in(parsed: ParsedFile) -> list[etree._Element]:
    return [n for n in parsed.root.iter() if _local(n.tag) == "decision"]


def processes_in(parsed: ParsedFile) -> list[etree._Element]:
    return list(parsed.root.iter(f"{{{BPMN_NS}}}process"))


def executable(process: etree._Element) -> bool:
    return (process.get("isExecutable") or "false").strip().lower() == "true"


def called_decisions(process: etree._Element) -> set[str]:
    return {(n.text or "").strip() for n in process.iter(f"{{{SPIFF_NS}}}calledDecisionId") if (n.text or "").strip()}


def called_processes(process: etree._Element) -> set[str]:
    return {n.get("calledElement") or "" for n in process.iter(f"{{{BPMN_NS}}}callActivity")} - {""}


def spiff_properties(node: etree._Element) -> dict[str, str]:
    found = {}
    for prop in node.iter(f"{{{SPIFF_NS}}}property"):
        if prop.get("name"):
            found[prop.get("name") or ""] = prop.get("value") or ""
    return found


def referenced_forms(process: etree._Element) -> set[str]:
    """``forms/…`` paths named by the tasks of a process (``formJsonSchemaFilename`` and UI schema)."""
    forms = set()
    for prop in process.iter(f"{{{SPIFF_NS}}}property"):
        if prop.get("name") in {"formJsonSchemaFilename", "formUiSchemaFilename"} and prop.get("value"):
            forms.add(f"forms/{prop.get('value')}")
    return forms
