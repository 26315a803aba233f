// Installable app: register the service worker of the public pages (web/static/js/sw.js,
// served as /sw.js). Without it (or without this script) every page works as before.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  var script = document.currentScript;
  var url = (script && script.getAttribute("data-sw")) || "/sw.js";
  window.addEventListener("load", function () {
    navigator.serviceWorker.register(url, { scope: "/" }).catch(function () { /* not offline-capable: fine */ });
  });
})();
