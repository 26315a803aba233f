// Uploads that work on 3G. Without this script every form still posts its files as before.
// With it: a chosen photo is shrunk in the browser (browser-image-compression, loaded only when a
// photo is chosen) to about 300 KB, type and size are checked before anything is sent, and the
// form is sent with a progress bar; a dropped connection keeps the form and its files.
(function () {
  "use strict";
  var script = document.currentScript;
  var LIB = script && script.getAttribute("data-lib");
  var TEXT = {};
  var node = document.getElementById("upload-text");
  if (node) { try { TEXT = JSON.parse(node.textContent); } catch (e) { TEXT = {}; } }
  function t(key, values) {
    var s = TEXT[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.split("%(" + k + ")s").join(values[k]); });
    return s;
  }
  var TYPES = ["image/jpeg", "image/png", "application/pdf"];
  var TARGET_MB = 0.3;
  var loading = null;

  function library() {
    if (window.imageCompression) return Promise.resolve(window.imageCompression);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = LIB;
        s.onload = function () { resolve(window.imageCompression); };
        s.onerror = function () { loading = null; reject(new Error("library")); };
        document.head.appendChild(s);
      });
    }
    return loading;
  }
  function size(n) {
    return n < 1024 * 1024 ? Math.max(1, Math.round(n / 1024)) + " KB" : (n / 1048576).toFixed(1).replace(".", ",") + " MB";
  }
  function note(input, text, bad) {
    var id = input.id + "-upload";
    var p = document.getElementById(id);
    if (!p) {
      p = document.createElement("p");
      p.id = id;
      p.setAttribute("aria-live", "polite");
      input.parentNode.insertBefore(p, input.nextSibling);
    }
    p.className = bad ? "error upload-note" : "hint upload-note";
    p.textContent = text;
    if (bad) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
  }
  function replaceFile(input, file) {
    var dt = new DataTransfer();
    dt.items.add(file);
    input.files = dt.files;
  }
  function prepare(input, maxBytes) {
    var file = input.files && input.files[0];
    if (!file) { input.removeAttribute("aria-invalid"); return Promise.resolve(true); }
    if (TYPES.indexOf(file.type) < 0) {
      input.value = "";
      note(input, t("type", { name: file.name }), true);
      return Promise.resolve(false);
    }
    if (file.type === "application/pdf" || !LIB || !window.DataTransfer) {
      if (file.size > maxBytes) {
        input.value = "";
        note(input, t("big", { size: size(file.size), max: size(maxBytes) }), true);
        return Promise.resolve(false);
      }
      note(input, t("ready", { size: size(file.size) }), false);
      return Promise.resolve(true);
    }
    if (file.size <= TARGET_MB * 1024 * 1024) {
      note(input, t("ready", { size: size(file.size) }), false);
      return Promise.resolve(true);
    }
    note(input, t("shrinking", { size: size(file.size) }), false);
    return library().then(function (compress) {
      return compress(file, {
        maxSizeMB: TARGET_MB,
        maxWidthOrHeight: 1600,
        useWebWorker: false, // a worker would load the library from a CDN
        preserveExif: input.getAttribute("data-keep-gps") === "1",
        fileType: "image/jpeg",
        initialQuality: 0.8
      });
    }).then(function (small) {
      var name = (file.name || "foto").replace(/\.[^.]*$/, "") + ".jpg";
      replaceFile(input, new File([small], name, { type: "image/jpeg", lastModified: Date.now() }));
      note(input, t("shrunk", { from: size(file.size), to: size(small.size) }), false);
      return true;
    }).catch(function () {
      if (file.size > maxBytes) {
        input.value = "";
        note(input, t("big", { size: size(file.size), max: size(maxBytes) }), true);
        return false;
      }
      note(input, t("ready", { size: size(file.size) }), false);
      return true;
    });
  }

  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 5 * 1024 * 1024;
    var pending = [];
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      input.addEventListener("change", function () { pending.push(prepare(input, maxBytes)); });
    });
    var button = form.querySelector("button[type=submit]");
    var bar = document.createElement("div");
    bar.className = "upload-progress";
    bar.hidden = true;
    bar.innerHTML = "<progress max=\"100\" value=\"0\"></progress> <span aria-live=\"polite\"></span>";
    if (button) button.parentNode.insertBefore(bar, button);
    var label = button ? button.textContent : "";

    function done(ok) {
      if (button) { button.disabled = false; button.textContent = label; }
      if (!ok) bar.hidden = true;
    }
    function send() {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.timeout = 10 * 60 * 1000;
      var progress = bar.querySelector("progress");
      var words = bar.querySelector("span");
      bar.hidden = false;
      xhr.upload.onprogress = function (ev) {
        if (!ev.lengthComputable) return;
        var pct = Math.round((100 * ev.loaded) / ev.total);
        progress.value = pct;
        words.textContent = t("sending", { pct: pct, done: size(ev.loaded), total: size(ev.total) });
      };
      xhr.onload = function () {
        var next = xhr.getResponseHeader("X-Location");
        if (xhr.status === 204 && next) {
          // the server's redirect (Post/Redirect/Get, web/xhr_redirect.py): that page replaces this form
          window.location.replace(next);
          return;
        }
        // refused (invalid field, too large): let the server's page with its messages show
        form.setAttribute("data-native", "1");
        HTMLFormElement.prototype.submit.call(form);
      };
      xhr.onerror = xhr.ontimeout = function () {
        words.textContent = t("offline");
        done(false);
      };
      xhr.send(new FormData(form));
    }
    form.addEventListener("submit", function (ev) {
      if (form.getAttribute("data-native") || !window.FormData) return;
      ev.preventDefault();
      if (button) { button.disabled = true; button.textContent = t("preparing"); }
      Promise.all(pending).then(function (results) {
        if (results.indexOf(false) >= 0) {
          done(false);
          var bad = form.querySelector("[aria-invalid=true]");
          if (bad) bad.focus();
          return;
        }
        if (button) button.textContent = t("send");
        send();
      });
    });
  });
})();
