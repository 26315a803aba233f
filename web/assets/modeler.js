// The procedure editor of /admin/: bpmn-js Modeler with our properties, dmn-js for decision
// tables, a JSON editor with a live preview for forms; save as draft, validate, deploy.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import BpmnViewer from 'bpmn-js/lib/NavigatedViewer';
import DmnModeler from 'dmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import SibalangPropertiesProvider from './properties.js';
import spiffworkflow from './spiffworkflow.json';

const $ = (sel) => document.querySelector(sel);
const page = JSON.parse(($('#editor-data') || $('#viewer-data')).textContent);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const L = page.labels || {};
window.SIBALANG = {
  labels: L,
  roles: page.roles || [],
  forms: () => Object.keys(files).filter((n) => n.startsWith('forms/')).map((n) => n.slice(6)),
};

let files = page.files || {};
let current = null; // {name, kind}
let bpmn = null;
let dmn = null;

async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  return { status: response.status, data };
}

async function saveCurrent() {
  if (!current) return;
  if (current.kind === 'bpmn') {
    files[current.name] = (await bpmn.saveXML({ format: true })).xml;
  } else if (current.kind === 'dmn') {
    files[current.name] = (await dmn.saveXML({ format: true })).xml;
  } else if (current.kind === 'form') {
    files[current.name] = $('#form-text').value;
  }
}

function show(kind) {
  for (const id of ['bpmn-pane', 'dmn-pane', 'form-pane']) $('#' + id).hidden = id !== kind + '-pane';
}

async function open(name) {
  await saveCurrent();
  const kind = name.endsWith('.bpmn') ? 'bpmn' : name.endsWith('.dmn') ? 'dmn' : 'form';
  current = { name, kind };
  show(kind);
  for (const b of document.querySelectorAll('#file-list button')) b.setAttribute('aria-current', b.dataset.file === name ? 'true' : 'false');
  if (kind === 'bpmn') {
    await bpmn.importXML(files[name]);
    bpmn.get('canvas').zoom('fit-viewport');
  } else if (kind === 'dmn') {
    if (!dmn) dmn = new DmnModeler({ container: '#dmn-canvas' });
    await dmn.importXML(files[name]);
    const table = dmn.getViews().find((v) => v.type === 'decisionTable');
    if (table) await dmn.open(table); // the rules themselves, not the requirements graph
  } else {
    $('#form-text').value = files[name];
    preview();
  }
}

function listFiles() {
  const list = $('#file-list');
  list.innerHTML = '';
  for (const name of Object.keys(files).sort()) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = name;
    button.dataset.file = name;
    button.addEventListener('click', () => open(name));
    li.appendChild(button);
    list.appendChild(li);
  }
}

let previewTimer = null;
function preview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(async () => {
    const name = current && current.name;
    const ui = name ? Object.keys(files).find((n) => n === name.replace(/\.json$/, '.ui.json')) : null;
    const { data } = await post(page.urls.preview, { schema: $('#form-text').value, ui_schema: ui ? files[ui] : null });
    $('#form-preview').innerHTML = data.html || '';
    $('#form-error').textContent = data.error || '';
  }, 300);
}

function report(result, title) {
  const box = $('#problems');
  box.hidden = false;
  box.innerHTML = '';
  const heading = document.createElement('h2');
  heading.textContent = title;
  box.appendChild(heading);
  const items = [...(result.errors || []).map((p) => ({ ...p, severity: 'error' })), ...(result.warnings || [])];
  if (!items.length) {
    const ok = document.createElement('p');
    ok.className = 'ok';
    ok.textContent = L.no_problems || 'Tidak ada masalah.';
    box.appendChild(ok);
    return;
  }
  const list = document.createElement('ul');
  for (const p of items) {
    const li = document.createElement('li');
    li.className = p.severity === 'error' ? 'problem-error' : 'problem-warning';
    const where = [p.file, p.element_id, p.line ? (L.line || 'baris') + ' ' + p.line : null].filter(Boolean).join(' · ');
    li.textContent = `${p.severity === 'error' ? L.error || 'Galat' : L.warning || 'Peringatan'}: ${p.message}` + (where ? ` (${where})` : '');
    if (p.element_id && current && current.kind === 'bpmn') {
      li.tabIndex = 0;
      li.addEventListener('click', () => {
        const el = bpmn.get('elementRegistry').get(p.element_id);
        if (el) { bpmn.get('selection').select(el); bpmn.get('canvas').scrollToElement(el); }
      });
    }
    list.appendChild(li);
  }
  box.appendChild(list);
}

async function validate() {
  await saveCurrent();
  const { status, data } = await post(page.urls.validate, { files });
  if (status !== 200) return report({ errors: [{ message: (data.error && data.error.message) || String(status) }] }, L.validation || 'Hasil pemeriksaan');
  report(data, data.valid ? L.valid || 'Siap dipasang' : L.invalid || 'Belum dapat dipasang');
  return data;
}

async function deploy(confirmed) {
  await saveCurrent();
  const { status, data } = await post(page.urls.deploy, { files, confirm: !!confirmed });
  if (status === 409 && data.error && data.error.code === 'confirmation_required') {
    const dialog = $('#confirm-dialog');
    $('#confirm-reasons').innerHTML = '';
    for (const reason of data.error.details || []) {
      const li = document.createElement('li');
      li.textContent = reason.message;
      $('#confirm-reasons').appendChild(li);
    }
    dialog.showModal();
    return;
  }
  if (status === 201) {
    const versions = (data.items || []).map((i) => `${i.key} v${i.version}`).join(', ');
    report({ warnings: data.warnings || [] }, (L.deployed || 'Terpasang') + ': ' + versions);
    $('#status').textContent = (L.deployed || 'Terpasang') + ': ' + versions;
    return;
  }
  const errors = (data.error && data.error.details) || [{ message: (data.error && data.error.message) || String(status) }];
  report({ errors: errors.filter((p) => p.severity !== 'warning'), warnings: errors.filter((p) => p.severity === 'warning') }, L.refused || 'Ditolak');
}

async function saveDraft() {
  await saveCurrent();
  const { status } = await post(page.urls.draft, { files });
  $('#status').textContent = status === 200 ? L.draft_saved || 'Draf tersimpan' : L.draft_failed || 'Draf gagal disimpan';
}

function newForm() {
  const name = (prompt(L.new_form_prompt || 'Nama berkas formulir (mis. cek_dtsen.json)') || '').trim();
  if (!/^[a-z0-9_]+\.json$/.test(name)) return;
  files['forms/' + name] = JSON.stringify({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: name.replace('.json', ''),
    type: 'object',
    properties: { decision: { type: 'string', title: 'Keputusan', enum: ['lanjut', 'kembalikan'] } },
    required: ['decision'],
    additionalProperties: false,
  }, null, 2);
  listFiles();
  open('forms/' + name);
}

function startEditor() {
  bpmn = new BpmnModeler({
    container: '#bpmn-canvas',
    propertiesPanel: { parent: '#properties' },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, { __init__: ['sibalangProvider'], sibalangProvider: ['type', SibalangPropertiesProvider] }],
    moddleExtensions: { spiffworkflow },
  });
  window.SIBALANG.modeler = bpmn;
  listFiles();
  $('#form-text').addEventListener('input', preview);
  // the preview is only a look at the form: submitting it goes nowhere (no inline handler under the CSP)
  $('#form-preview').addEventListener('submit', (event) => event.preventDefault());
  $('#btn-validate').addEventListener('click', validate);
  $('#btn-deploy').addEventListener('click', () => deploy(false));
  $('#btn-draft').addEventListener('click', saveDraft);
  $('#btn-new-form').addEventListener('click', newForm);
  $('#confirm-yes').addEventListener('click', () => { $('#confirm-dialog').close(); deploy(true); });
  $('#confirm-no').addEventListener('click', () => $('#confirm-dialog').close());
  open(page.diagram);
}

async function startViewer() {
  const viewer = new BpmnViewer({ container: '#bpmn-canvas', moddleExtensions: { spiffworkflow } });
  await viewer.importXML(page.xml);
  viewer.get('canvas').zoom('fit-viewport');
  for (const id of page.highlight || []) {
    try { viewer.get('canvas').addMarker(id, 'highlight'); } catch (e) { /* not in this version */ }
  }
}

if ($('#editor-data')) startEditor(); else startViewer();
