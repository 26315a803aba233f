// The properties our engine reads, for bpmn-js-properties-panel: a task's role (its lane), form
// and SLA, conditions on flows, scripts, timers, DMN decisions and end-event outcomes.
// SpiffArena's own provider (bpmn-js-spiffworkflow) is not published on npm, hence this one.
import { h } from '@bpmn-io/properties-panel/preact';
import { TextFieldEntry, TextAreaEntry, SelectEntry, isTextFieldEntryEdited, isTextAreaEntryEdited, isSelectEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

const T = (window.SIBALANG && window.SIBALANG.labels) || {};
const label = (key, fallback) => T[key] || fallback;

function extensionValues(bo) {
  const ext = bo.get('extensionElements');
  return ext ? ext.get('values') : [];
}

function ensureExtensions(element, bo, bpmnFactory, modeling) {
  let ext = bo.get('extensionElements');
  if (!ext) {
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    modeling.updateModdleProperties(element, bo, { extensionElements: ext });
  }
  return ext;
}

function getProperty(bo, name) {
  const props = extensionValues(bo).find((v) => is(v, 'spiffworkflow:Properties'));
  const prop = props && props.get('properties').find((p) => p.name === name);
  return prop ? prop.value : '';
}

function setProperty(element, bo, name, value, bpmnFactory, modeling) {
  const ext = ensureExtensions(element, bo, bpmnFactory, modeling);
  let props = ext.get('values').find((v) => is(v, 'spiffworkflow:Properties'));
  if (!props) {
    props = bpmnFactory.create('spiffworkflow:Properties', { properties: [] });
    modeling.updateModdleProperties(element, ext, { values: [...ext.get('values'), props] });
  }
  const prop = props.get('properties').find((p) => p.name === name);
  if (!value) {
    if (prop) modeling.updateModdleProperties(element, props, { properties: props.get('properties').filter((p) => p !== prop) });
  } else if (prop) {
    modeling.updateModdleProperties(element, prop, { value });
  } else {
    const created = bpmnFactory.create('spiffworkflow:Property', { name, value });
    modeling.updateModdleProperties(element, props, { properties: [...props.get('properties'), created] });
  }
}

function getBody(bo, type) {
  const found = extensionValues(bo).find((v) => is(v, type));
  return found ? found.value || '' : '';
}

function setBody(element, bo, type, value, bpmnFactory, modeling) {
  const ext = ensureExtensions(element, bo, bpmnFactory, modeling);
  const found = ext.get('values').find((v) => is(v, type));
  if (found && !value) {
    modeling.updateModdleProperties(element, ext, { values: ext.get('values').filter((v) => v !== found) });
  } else if (found) {
    modeling.updateModdleProperties(element, found, { value });
  } else if (value) {
    modeling.updateModdleProperties(element, ext, { values: [...ext.get('values'), bpmnFactory.create(type, { value })] });
  }
}

function PropertyField(props) {
  const { element, id, name, text, area } = props;
  const bpmnFactory = useService('bpmnFactory');
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  return h(area ? TextAreaEntry : TextFieldEntry, {
    element, id, label: text, debounce,
    getValue: () => getProperty(bo, name),
    setValue: (value) => setProperty(element, bo, name, value, bpmnFactory, modeling),
  });
}

function BodyField(props) {
  const { element, id, type, text } = props;
  const bpmnFactory = useService('bpmnFactory');
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  return h(TextAreaEntry, {
    element, id, label: text, debounce, monospace: true,
    getValue: () => getBody(bo, type),
    setValue: (value) => setBody(element, bo, type, value, bpmnFactory, modeling),
  });
}

function FormSelect(props) {
  const { element, id, name, text } = props;
  const bpmnFactory = useService('bpmnFactory');
  const modeling = useService('modeling');
  const bo = getBusinessObject(element);
  const forms = (window.SIBALANG && window.SIBALANG.forms()) || [];
  return h(SelectEntry, {
    element, id, label: text,
    getOptions: () => [{ value: '', label: '—' }, ...forms.map((f) => ({ value: f, label: f }))],
    getValue: () => getProperty(bo, name),
    setValue: (value) => setProperty(element, bo, name, value, bpmnFactory, modeling),
  });
}

function RoleSelect(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const roles = (window.SIBALANG && window.SIBALANG.roles) || [];
  return h(SelectEntry, {
    element, id, label: label('role', 'Peran (nama lajur)'),
    getOptions: () => [{ value: '', label: '—' }, ...roles.map((r) => ({ value: r, label: r }))],
    getValue: () => getBusinessObject(element).name || '',
    setValue: (value) => modeling.updateProperties(element, { name: value }),
  });
}

function ConditionField(props) {
  const { element, id } = props;
  const bpmnFactory = useService('bpmnFactory');
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  return h(TextAreaEntry, {
    element, id, debounce, monospace: true,
    label: label('condition', 'Kondisi (Python), mis. decision == "lengkap"'),
    getValue: () => (bo.conditionExpression && bo.conditionExpression.body) || '',
    setValue: (value) => {
      const expr = value ? bpmnFactory.create('bpmn:FormalExpression', { body: value }) : undefined;
      modeling.updateProperties(element, { conditionExpression: expr });
    },
  });
}

function ScriptField(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  return h(TextAreaEntry, {
    element, id, debounce, monospace: true, label: label('script', 'Skrip (Python)'),
    getValue: () => bo.script || '',
    setValue: (value) => modeling.updateProperties(element, { script: value, scriptFormat: 'python' }),
  });
}

function timerOf(element) {
  const bo = getBusinessObject(element);
  return (bo.eventDefinitions || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
}

function TimerField(props) {
  const { element, id } = props;
  const bpmnFactory = useService('bpmnFactory');
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  const timer = timerOf(element);
  const kind = ['timeDuration', 'timeDate', 'timeCycle'].find((k) => timer.get(k)) || 'timeDuration';
  return h(TextAreaEntry, {
    element, id, debounce, monospace: true,
    label: label('timer', 'Timer (ekspresi Python): "P14D", "PT2H" atau nama variabel') + ` [${kind}]`,
    getValue: () => (timer.get(kind) && timer.get(kind).body) || '',
    setValue: (value) => {
      const expr = bpmnFactory.create('bpmn:FormalExpression', { body: value });
      modeling.updateModdleProperties(element, timer, { [kind]: expr });
    },
  });
}

function entry(id, component, extra) {
  return { id, component, isEdited: isTextFieldEntryEdited, ...extra };
}

export default function SibalangPropertiesProvider(propertiesPanel) {
  this.getGroups = (element) => (groups) => {
    const entries = [];
    if (is(element, 'bpmn:Lane')) {
      entries.push({ id: 'sibalang-role', component: RoleSelect, isEdited: isSelectEntryEdited });
    }
    if (is(element, 'bpmn:UserTask') || is(element, 'bpmn:ManualTask')) {
      entries.push({ id: 'sibalang-form', component: (p) => FormSelect({ ...p, name: 'formJsonSchemaFilename', text: label('form', 'Formulir (JSON Schema)') }), isEdited: isSelectEntryEdited });
      entries.push({ id: 'sibalang-ui', component: (p) => FormSelect({ ...p, name: 'formUiSchemaFilename', text: label('ui', 'UI schema (opsional)') }), isEdited: isSelectEntryEdited });
      entries.push(entry('sibalang-sla', (p) => PropertyField({ ...p, name: 'slaDays', text: label('sla', 'SLA (hari kerja)') })));
      entries.push(entry('sibalang-due', (p) => PropertyField({ ...p, name: 'dueDateVariable', text: label('due', 'Batas waktu dari variabel') })));
    }
    if (is(element, 'bpmn:SequenceFlow')) {
      const source = element.businessObject.sourceRef;
      if (source && (is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway'))) {
        entries.push({ id: 'sibalang-condition', component: ConditionField, isEdited: isTextAreaEntryEdited });
      }
    }
    if (is(element, 'bpmn:ScriptTask')) {
      entries.push({ id: 'sibalang-script', component: ScriptField, isEdited: isTextAreaEntryEdited });
    }
    if (is(element, 'bpmn:Task')) {
      entries.push({ id: 'sibalang-pre', component: (p) => BodyField({ ...p, type: 'spiffworkflow:PreScript', text: label('pre', 'Skrip sebelum (preScript)') }), isEdited: isTextAreaEntryEdited });
      entries.push({ id: 'sibalang-post', component: (p) => BodyField({ ...p, type: 'spiffworkflow:PostScript', text: label('post', 'Skrip sesudah (postScript)') }), isEdited: isTextAreaEntryEdited });
    }
    if (is(element, 'bpmn:BusinessRuleTask')) {
      entries.push({ id: 'sibalang-decision', component: (p) => BodyField({ ...p, type: 'spiffworkflow:CalledDecisionId', text: label('dmn', 'Tabel keputusan (id decision DMN)') }), isEdited: isTextAreaEntryEdited });
    }
    if (is(element, 'bpmn:Event') && timerOf(element)) {
      entries.push({ id: 'sibalang-timer', component: TimerField, isEdited: isTextAreaEntryEdited });
    }
    if (is(element, 'bpmn:EndEvent')) {
      entries.push(entry('sibalang-outcome', (p) => PropertyField({ ...p, name: 'outcome', text: label('outcome', 'Hasil kasus: completed / rejected / expired') })));
    }
    if (entries.length) {
      groups.splice(1, 0, { id: 'sibalang', label: label('group', 'Layar Sibalang'), entries });
    }
    return groups;
  };
  propertiesPanel.registerProvider(400, this);
}
SibalangPropertiesProvider.$inject = ['propertiesPanel'];
