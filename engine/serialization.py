"""One workflow serializer, built once; instance state is stored without the spec.

The full SpiffWorkflow serialization embeds the process spec (about half the bytes of a case).
The spec is stored once per deployed version; a case stores only its instance state,
compressed, and is restored against the cached live spec objects.
"""

from __future__ import annotations

import json
import zlib
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


class _SpecAwareWorkflowConverter(BpmnWorkflowConverter):
    """Accepts already restored spec objects in place of their dictionaries."""

    def from_dict(self, dct):  # type: ignore[no-untyped-def]
        spec = dct.pop("spec")
        if isinstance(spec, dict):
            spec = self.registry.restore(spec)
        subprocess_specs = dct.pop("subprocess_specs", {})
        if any(isinstance(s, dict) for s in subprocess_specs.values()):
            subprocess_specs = self.mapping_from_dict(subprocess_specs)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = _SpecAwareWorkflowConverter
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))
SERIALIZER_VERSION = SERIALIZER.VERSION


def dump_instance(workflow: BpmnWorkflow) -> bytes:
    """Serialize a workflow's instance state (no spec), compressed."""
    registry = SERIALIZER.registry
    registry._encoder_mode = True  # the serializer's own switch for JSON-safe output
    try:
        dct = SERIALIZER.to_dict(workflow)
    finally:
        registry._encoder_mode = False
    dct.pop("spec", None)
    dct.pop("subprocess_specs", None)
    raw = json.dumps(dct, cls=SERIALIZER._encoder_cls, separators=(",", ":"))
    return zlib.compress(raw.encode("utf-8"), 6)


def load_instance(state: bytes, spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> BpmnWorkflow:
    """Restore a workflow from :func:`dump_instance` output against live spec objects."""
    dct = json.loads(zlib.decompress(state).decode("utf-8"), cls=SERIALIZER.json_decoder_cls)
    dct["spec"] = spec
    dct["subprocess_specs"] = subprocess_specs
    workflow = SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine
    return workflow
