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

import zlib
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
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
    """orjson's hook for what the converters left in task data: the serializer's registry
    converts its types (datetimes, UUIDs, timedeltas) as its own JSON encoder would."""
    if isinstance(obj, set | frozenset):
        return list(obj)
    converted = SERIALIZER.registry.convert(obj)
    if converted is obj:
        raise TypeError(f"cannot store a {type(obj).__name__} in workflow data")
    return converted


def instance_json(workflow: BpmnWorkflow) -> bytes:
    """A workflow's instance state (no spec) as compact JSON."""
    # datetimes go through the hook, as with the serializer's encoder, to be restored as datetimes
    options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
    return orjson.dumps(SERIALIZER.to_dict(workflow), default=_leftover, option=options)


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


# What each of SpiffWorkflow's serializer migrations (``SERIALIZER.migrate``, one per call) leaves
# a serialization at: 1.0–1.2 chain up to 1.3, later ones go one step. A SpiffWorkflow release
# with a new format adds a key to MIGRATIONS; tests/test_serialization.py fails until it is here.
MIGRATED_TO = {"1.0": "1.3", "1.1": "1.3", "1.2": "1.3", "1.3": "1.4", "1.4": "1.5"}


class UnknownStateFormat(ValueError):
    """A stored state written by a serializer version this SpiffWorkflow cannot read."""


def migrate_state(dct: dict[str, Any], version: str, stored_spec: Any) -> dict[str, Any]:
    """Bring instance state ``dct`` of serializer ``version`` to today's format with SpiffWorkflow's
    migrations. They work on a whole serialization, so they get the spec the case was stored
    with (``stored_spec()``: the procedure version's serialized ``{spec, subprocess_specs}``)."""
    if version == SERIALIZER_VERSION:
        return dct
    if version not in MIGRATIONS or version not in MIGRATED_TO:
        raise UnknownStateFormat(
            f"stored workflow state has serializer version {version!r}; this build reads {SERIALIZER_VERSION}"
        )
    whole = {**dct, **stored_spec()}
    while version != SERIALIZER_VERSION:
        whole[SERIALIZER.VERSION_KEY] = version
        SERIALIZER.migrate(whole)  # pops the version key, applies the step
        version = MIGRATED_TO[version]
    whole.pop("spec", None)
    whole.pop("subprocess_specs", None)
    return whole


def load_instance(
    state: bytes,
    spec: Any,
    subprocess_specs: dict[str, Any],
    script_engine: Any,
    *,
    version: str = SERIALIZER_VERSION,
    stored_spec: Any = None,
) -> BpmnWorkflow:
    """Restore a workflow from :func:`dump_instance` output of serializer ``version`` against live
    spec objects, migrating an older format first (see :func:`migrate_state`)."""
    dct = orjson.loads(_decompress(state))
    if version != SERIALIZER_VERSION:
        dct = migrate_state(dct, version, stored_spec)
    dct["spec"] = spec
    dct["subprocess_specs"] = subprocess_specs
    workflow = SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine
    return workflow
