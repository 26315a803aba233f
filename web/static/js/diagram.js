// Draw the case's process diagram with bpmn-js (NavigatedViewer, global BpmnJS) and mark
// completed steps and current tasks. Loaded on the case page only.
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("diagram");
    if (!box || typeof window.BpmnJS !== "function") { return; }
    var completed = JSON.parse(box.dataset.completed || "[]");
    var current = JSON.parse(box.dataset.current || "[]");
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (xml) {
        box.textContent = "";
        var viewer = new window.BpmnJS({ container: box });
        return viewer.importXML(xml).then(function () {
          var canvas = viewer.get("canvas");
          var registry = viewer.get("elementRegistry");
          completed.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "done"); } });
          current.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "current"); } });
          canvas.zoom("fit-viewport");
          box.dataset.ready = "1";
        });
      })
      .catch(function () { box.textContent = box.dataset.error; box.dataset.ready = "error"; });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
