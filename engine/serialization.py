"""One workflow serializer, built once; instance state is stored without the spec.

The full SpiffWorkflow serialization embeds the process spec (about half the bytes of a case).
The spec is stored once per deployed version; a case stores only its instance state, as JSON
compressed with zlib and a preset dictionary (``state_dictionary_1.txt``: the recurring keys,
task names and values of serialized cases), and is restored against the cached live spec objects.

zlib records the dictionary's Adler-32 checksum in every stream, so each stored state says
which dictionary it needs. A dictionary file is never edited: a better one gets a new file and
is appended to ``_DICTIONARY_FILES``; the last is used for writing, all of them for reading.
States written without a dictionary (before there was one) still load.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


class _SpecAwareWorkflowConverter(BpmnWorkflowConverter):
    """Instance state only: never converts the spec, and restores against live spec objects."""

    def to_dict(self, workflow):  # type: ignore[no-untyped-def]
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

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

_DICTIONARY_FILES = ("state_dictionary_1.txt",)
_DICTIONARIES = {
    zlib.adler32(d): d for d in ((Path(__file__).parent / name).read_bytes() for name in _DICTIONARY_FILES)
}
_WRITE_DICTIONARY = (Path(__file__).parent / _DICTIONARY_FILES[-1]).read_bytes()
_FDICT = 0x20  # zlib header flag: a preset dictionary's checksum follows


def _leftover(obj: Any) -> Any:
    """What the serializer's own JSON encoder does with values its converters left (orjson hook)."""
    typename = SERIALIZER.registry.typenames.get(type(obj))
    if typename is not None:
        return SERIALIZER.registry.convert_to_dict[typename](obj)
    if callable(obj) or isinstance(obj, ModuleType):
        return None
    if isinstance(obj, set | frozenset):
        return list(obj)
    raise TypeError(f"cannot store a {type(obj).__name__} in workflow data")


def instance_json(workflow: BpmnWorkflow) -> bytes:
    """A workflow's instance state (no spec) as compact JSON."""
    registry = SERIALIZER.registry
    registry._encoder_mode = True  # the serializer's own switch for JSON-safe output
    try:
        dct = SERIALIZER.to_dict(workflow)
    finally:
        registry._encoder_mode = False
    try:
        # datetimes go through the hook, as with the standard encoder, to be restored as datetimes
        return orjson.dumps(dct, default=_leftover, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:  # e.g. a key that is not a string: the standard encoder copes
        return json.dumps(dct, cls=SERIALIZER._encoder_cls, separators=(",", ":")).encode("utf-8")


def dump_instance(workflow: BpmnWorkflow) -> bytes:
    """Serialize a workflow's instance state (no spec), compressed."""
    compressor = zlib.compressobj(6, zdict=_WRITE_DICTIONARY)
    return compressor.compress(instance_json(workflow)) + compressor.flush()


def _decompress(state: bytes) -> bytes:
    if len(state) > 6 and state[1] & _FDICT:
        dictionary = _DICTIONARIES.get(int.from_bytes(state[2:6], "big"))
        if dictionary is None:
            raise ValueError("stored workflow state needs a compression dictionary this version does not have")
        decompressor = zlib.decompressobj(zdict=dictionary)
        return decompressor.decompress(state) + decompressor.flush()
    return zlib.decompress(state)


def state_dict(state: bytes) -> dict[str, Any]:
    """The stored instance state as a plain dictionary (for comparisons and inspection)."""
    return orjson.loads(_decompress(state))


def load_instance(state: bytes, spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> BpmnWorkflow:
    """Restore a workflow from :func:`dump_instance` output against live spec objects."""
    dct = orjson.loads(_decompress(state))
    dct["spec"] = spec
    dct["subprocess_specs"] = subprocess_specs
    workflow = SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine
    return workflow
