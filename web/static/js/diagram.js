// The case's process diagram, loaded only when asked for: opening the "diagram" panel fetches
// bpmn-js (NavigatedViewer, global BpmnJS), its stylesheet and the case's BPMN, then marks the
// completed steps and the current tasks. Zoom and fit buttons; labels larger than bpmn-js's 12 px.
// Used on the staff and audit case pages; without JavaScript the ordered list of steps remains.
(function () {
  "use strict";
  var loading = null;

  function load(box) {
    if (window.BpmnJS) { return Promise.resolve(); }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var css = document.createElement("link");
        css.rel = "stylesheet";
        css.href = box.dataset.css;
        document.head.appendChild(css);
        var s = document.createElement("script");
        s.src = box.dataset.lib;
        s.onload = function () { resolve(); };
        s.onerror = function () { loading = null; reject(new Error("library")); };
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  function controls(box, canvas) {
    var bar = box.parentNode.querySelector(".diagram-tools");
    if (!bar) { return; }
    bar.hidden = false;
    bar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-zoom]");
      if (!button) { return; }
      var how = button.dataset.zoom;
      if (how === "fit") { canvas.zoom("fit-viewport", "auto"); return; }
      var step = how === "in" ? 1.25 : 0.8;
      canvas.zoom(Math.min(4, Math.max(0.2, canvas.zoom() * step)));
    });
  }

  function draw(box) {
    if (box.dataset.ready) { return; }
    box.dataset.ready = "loading";
    var completed = JSON.parse(box.dataset.completed || "[]");
    var current = JSON.parse(box.dataset.current || "[]");
    var xml = fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); });
    Promise.all([load(box), xml])
      .then(function (done) {
        box.textContent = "";
        var viewer = new window.BpmnJS({
          container: box,
          textRenderer: { defaultStyle: { fontSize: 15, lineHeight: 1.2 }, externalStyle: { fontSize: 14 } }
        });
        return viewer.importXML(done[1]).then(function () {
          var canvas = viewer.get("canvas");
          var registry = viewer.get("elementRegistry");
          completed.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "done"); } });
          current.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "current"); } });
          canvas.zoom("fit-viewport", "auto");
          controls(box, canvas);
          box.dataset.ready = "1";
        });
      })
      .catch(function () { box.textContent = box.dataset.error; box.dataset.ready = "error"; });
  }

  function start() {
    var box = document.getElementById("diagram");
    var panel = box && box.closest("details");
    if (!box) { return; }
    if (!panel) { draw(box); return; }
    if (panel.open) { draw(box); }
    panel.addEventListener("toggle", function () { if (panel.open) { draw(box); } });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
