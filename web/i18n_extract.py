"""Babel extraction methods for the procedure files, so their Indonesian text gets English too.

Task forms (``bpmn/forms/*.json``): the form's and each field's ``title`` and ``description`` and the
``enumNames`` of choices. Diagrams (``bpmn/*.bpmn``): the ``name`` of every flow element (task titles
staff see in the inbox and history). Wired in ``babel.cfg``; no maintained extractor reads either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from lxml import etree

Message = tuple[int, str | None, str, list[str]]


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key in ("title", "description"):
            if isinstance(node.get(key), str):
                yield node[key]
        for name in node.get("enumNames") or []:
            if isinstance(name, str):
                yield name
        for key, value in node.items():
            if key not in ("title", "description", "enumNames", "enum", "const", "default"):
                yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def extract_form_json(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[Message]:
    """Every title, description and choice name of a JSON-Schema task form."""
    schema = json.loads(fileobj.read().decode("utf-8"))
    for text in _strings(schema):
        if text.strip():
            yield 1, None, text, []


def extract_bpmn(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[Message]:
    """The names of the diagram's tasks and events (what the inbox and the timeline show)."""
    tree = etree.parse(fileobj, etree.XMLParser(resolve_entities=False, no_network=True))
    for element in tree.iter():
        if not isinstance(element.tag, str) or "BPMNDiagram" in element.tag:
            continue
        local = etree.QName(element).localname
        name = element.get("name")
        if name and name.strip() and local.endswith("Task"):
            yield element.sourceline or 1, None, name, []
