// Public forms, progressively enhanced: without this script every field still works.
(function () {
  "use strict";
  // After a refused submit: read the list of what to fix first (each item links to its field).
  var summary = document.getElementById("ringkasan-kesalahan");
  if (summary) summary.focus();
  // Kecamatan first, then only its desa/kelurahan.
  document.querySelectorAll("[data-village-picker]").forEach(function (box) {
    var step = box.querySelector(".kecamatan-step");
    var kec = box.querySelector("#kecamatan");
    var desa = box.querySelector("#village_code");
    if (!step || !kec || !desa) return;
    var groups = Array.prototype.slice.call(desa.querySelectorAll("optgroup"));
    var placeholder = desa.options[0];
    function show() {
      var chosen = kec.value;
      var keep = desa.value;
      desa.textContent = "";
      desa.appendChild(placeholder);
      groups.forEach(function (g) {
        if (!chosen || g.getAttribute("data-kecamatan") === chosen) desa.appendChild(g);
      });
      desa.value = keep;
      if (desa.value !== keep) desa.value = "";
    }
    if (desa.value) kec.value = desa.value.slice(0, 8);
    step.hidden = false;
    kec.addEventListener("change", show);
    show();
  });
  // Show only the document fields the chosen service needs.
  var uploads = document.querySelectorAll(".upload[data-services]");
  var services = document.querySelectorAll("input[name=service]");
  function filterUploads() {
    var chosen = document.querySelector("input[name=service]:checked");
    uploads.forEach(function (u) {
      var needed = (u.getAttribute("data-services") || "").split(" ");
      u.hidden = !!chosen && needed.indexOf(chosen.value) < 0 && !u.querySelector(".error");
    });
  }
  services.forEach(function (s) { s.addEventListener("change", filterUploads); });
  if (services.length) filterUploads();
  // One tap is enough on a slow connection: disable the button while the form is sent.
  // (forms with uploads show their own progress: web/static/js/upload.js)
  document.querySelectorAll("form:not([data-upload])").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = "Mengirim…"; }
    });
  });
})();
