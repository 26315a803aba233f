// Drafts of the public forms (apply, complaint): what was typed survives a reload and a tab the
// phone discarded while the camera was open. Kept in this browser only (localStorage), never a
// file, never the form token or the consent tick (consent is given again, knowingly); cleared
// by the receipt page once the form was received, and forgotten after DAYS days.
(function () {
  "use strict";
  var PREFIX = "sibalang:draft:";
  var SENT = "sibalang:sent:";
  var DAYS = 7;
  var SKIP = { form_token: true, consent: true };
  var store;
  try { store = window.localStorage; store.getItem(PREFIX); } catch (e) { return; }

  function read(key) {
    try { return JSON.parse(store.getItem(key) || "null"); } catch (e) { return null; }
  }
  function write(key, value) {
    try { store.setItem(key, JSON.stringify(value)); } catch (e) { /* full or private mode: no draft */ }
  }

  // The receipt: the form it answers is done, its draft goes.
  var receipt = document.getElementById("receipt");
  if (receipt && receipt.getAttribute("data-form")) {
    var done = receipt.getAttribute("data-form");
    store.removeItem(PREFIX + done);
    write(SENT + done, Date.now());
    return;
  }

  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    var key = PREFIX + form.getAttribute("data-draft");
    var opened = Date.now();
    function fields() {
      return Array.prototype.filter.call(form.elements, function (el) {
        var name = el.name || el.id;
        return name && !SKIP[name] && el.type !== "file" && el.type !== "hidden" &&
          el.type !== "submit" && el.type !== "button" && el.tagName !== "FIELDSET";
      });
    }
    function save() {
      var sent = read(SENT + form.getAttribute("data-draft"));
      if (sent && sent > opened) return; // received meanwhile (another tab, or Back): nothing to keep
      var values = {};
      fields().forEach(function (el) {
        var name = el.name || el.id;
        if (el.type === "radio") { if (el.checked) values[name] = el.value; }
        else if (el.type === "checkbox") { if (el.checked) values[name] = el.value; }
        else if (el.value) { values[name] = el.value; }
      });
      if (Object.keys(values).length) write(key, { at: Date.now(), values: values });
      else store.removeItem(key);
    }
    function restore() {
      var draft = read(key);
      if (!draft || !draft.values) return;
      if (Date.now() - (draft.at || 0) > DAYS * 86400000) { store.removeItem(key); return; }
      var changed = [];
      fields().forEach(function (el) {
        var name = el.name || el.id;
        if (!(name in draft.values)) return;
        var value = draft.values[name];
        if (el.type === "radio" || el.type === "checkbox") {
          var group = form.querySelectorAll("input[name='" + name + "']:checked");
          if (!group.length && el.value === value) { el.checked = true; changed.push(el); }
        } else if (!el.value) {
          el.value = value;
          if (el.value === value) changed.push(el);
        }
      });
      // let the page's own scripts (kecamatan → desa, service → documents) follow the values
      changed.forEach(function (el) {
        if (el.name !== "village_code") el.dispatchEvent(new Event("change", { bubbles: true }));
      });
      var desa = form.querySelector("[name=village_code]");
      if (desa && draft.values.village_code && !desa.value) desa.value = draft.values.village_code;
      if (changed.length) {
        var note = document.getElementById("draft-restored");
        if (note) note.hidden = false;
      }
    }
    restore();
    var timer = null;
    function later() { clearTimeout(timer); timer = setTimeout(save, 300); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    document.addEventListener("visibilitychange", function () { if (document.hidden) save(); });
    window.addEventListener("pagehide", save);
    // Back to a form already received (the page restored from memory): load it afresh instead,
    // so it says the form was sent rather than offering to send it again.
    window.addEventListener("pageshow", function (ev) {
      var sent = read(SENT + form.getAttribute("data-draft"));
      if (ev.persisted && sent && sent > opened) window.location.reload();
    });
    form.addEventListener("submit", save);
    var clear = document.getElementById("draft-clear");
    if (clear) {
      clear.hidden = false;
      clear.addEventListener("click", function () {
        store.removeItem(key);
        window.location.replace(window.location.pathname);
      });
    }
  });
})();
