// Uploads that work on 3G. Without this script every form still posts its files as before.
// With it: a chosen photo is shrunk in the browser (browser-image-compression, loaded only when a
// photo is chosen) to about 300 KB, type and size are checked before anything is sent, and the
// form is sent with a progress bar; a dropped connection keeps the form and its files.
// A form with data-stage (apply, complaint) sends each file on its own as soon as it is chosen
// (web/public/staging.py), with its own progress bar and a retry button when the connection
// drops; the form itself then carries only the ids of its uploaded files.
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
    input.removeAttribute("data-shrunk");
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
      input.setAttribute("data-shrunk", t("shrunk", { from: size(file.size), to: size(small.size) }));
      note(input, input.getAttribute("data-shrunk"), false);
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

  // One file of a staging form, sent alone: its progress, its outcome, its retry.
  function Staged(form, input) {
    this.form = form;
    this.input = input;
    this.state = "idle"; // idle | sending | done | failed (a retry may help) | refused (it will not)
    this.file = null;
    this.xhr = null;
    this.promise = Promise.resolve(true);
    var box = document.createElement("div");
    box.className = "file-status";
    box.hidden = true;
    box.innerHTML = "<progress max=\"100\" value=\"0\"></progress>";
    this.box = box;
    this.bar = box.querySelector("progress");
    this.retry = button("retry", "button secondary retry");
    this.remove = button("remove", "link remove");
    box.appendChild(this.retry);
    box.appendChild(this.remove);
    var self = this;
    this.retry.addEventListener("click", function () { self.send(); });
    this.remove.addEventListener("click", function () { self.unstage(); });
    var after = document.getElementById(input.id + "-upload") || input;
    after.parentNode.insertBefore(box, after.nextSibling);
    if (this.hidden()) { this.state = "done"; this.show(false, false, true); }
  }
  function button(key, cls) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = t(key);
    b.hidden = true;
    return b;
  }
  Staged.prototype.hidden = function (create) {
    var name = "staged_" + this.input.getAttribute("data-kind");
    var field = this.form.querySelector("input[type=hidden][name='" + name + "']");
    if (!field && create) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = name;
      this.input.parentNode.insertBefore(field, this.input.nextSibling);
    }
    return field;
  };
  Staged.prototype.show = function (bar, retry, remove) {
    this.box.hidden = !(bar || retry || remove);
    this.bar.hidden = !bar;
    this.retry.hidden = !retry;
    this.remove.hidden = !remove;
  };
  Staged.prototype.send = function () {
    var self = this, file = this.file;
    if (!file) return Promise.resolve(true);
    if (this.xhr) this.xhr.abort();
    this.state = "sending";
    this.bar.value = 0;
    this.show(true, false, false);
    note(this.input, t("uploading", { pct: 0, done: size(0), total: size(file.size) }), false);
    this.promise = new Promise(function (resolve) {
      var xhr = self.xhr = new XMLHttpRequest();
      var data = new FormData();
      data.append("form", self.form.getAttribute("data-stage-form"));
      data.append("kind", self.input.getAttribute("data-kind"));
      var earlier = self.hidden();
      if (earlier && earlier.value) data.append("replaces", earlier.value);
      data.append("file", file, file.name);
      xhr.open("POST", self.form.getAttribute("data-stage"));
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.timeout = 5 * 60 * 1000;
      xhr.upload.onprogress = function (ev) {
        if (!ev.lengthComputable || self.xhr !== xhr) return;
        var pct = Math.round((100 * ev.loaded) / ev.total);
        self.bar.value = pct;
        note(self.input, t("uploading", { pct: pct, done: size(ev.loaded), total: size(ev.total) }), false);
      };
      function failed(text, retry) {
        self.state = retry ? "failed" : "refused";
        note(self.input, text, true);
        self.show(false, retry, false);
        if (!retry) { self.file = null; self.input.value = ""; }
        resolve(false);
      }
      xhr.onload = function () {
        if (self.xhr !== xhr) return;
        self.xhr = null;
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status === 201 && body && body.id) {
          self.hidden(true).value = body.id;
          // sent already: the form carries only its id; the field keeps showing the file's name
          // (a cleared field would say "no file chosen" beside "uploaded") but is not sent again
          if (self.input.name) { self.input.setAttribute("data-name", self.input.name); self.input.removeAttribute("name"); }
          self.file = null;
          self.state = "done";
          var shrunk = self.input.getAttribute("data-shrunk");
          note(self.input, (shrunk ? shrunk + " " : "") + t("uploaded", { name: body.filename, size: size(body.size) }), false);
          self.show(false, false, true);
          resolve(true);
          return;
        }
        var message = body && body.error && body.error.message;
        // refused by its content (type, size, quota): another try sends the same refusal
        if (message && xhr.status >= 400 && xhr.status < 500 && xhr.status !== 429) { failed(message, false); return; }
        failed(message || t("failed"), true);
      };
      xhr.onerror = xhr.ontimeout = function () {
        if (self.xhr !== xhr) return;
        self.xhr = null;
        failed(t("failed"), true);
      };
      xhr.send(data);
    });
    return this.promise;
  };
  Staged.prototype.unstage = function () {
    var self = this, field = this.hidden();
    if (!field || !field.value) return;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", this.form.getAttribute("data-stage") + "/" + encodeURIComponent(field.value) + "/hapus");
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.onload = function () {
      if (xhr.status !== 204 && xhr.status !== 404) return;
      field.parentNode.removeChild(field);
      self.input.value = "";
      self.restoreName();
      self.state = "idle";
      self.show(false, false, false);
      note(self.input, t("removed"), false);
    };
    xhr.send();
  };
  Staged.prototype.restoreName = function () {
    var name = this.input.getAttribute("data-name");
    if (name) { this.input.name = name; this.input.removeAttribute("data-name"); }
  };
  Staged.prototype.choose = function (maxBytes) {
    var self = this;
    if (this.xhr) { this.xhr.abort(); this.xhr = null; }
    this.promise = prepare(this.input, maxBytes).then(function (ok) {
      var file = self.input.files && self.input.files[0];
      if (!ok || !file) { self.state = ok ? self.state : "refused"; self.show(false, false, false); return ok; }
      self.file = file;
      return self.send();
    });
  };

  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 5 * 1024 * 1024;
    var pending = [];
    var staged = [];
    var staging = form.getAttribute("data-stage") && window.FormData;
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      if (staging && input.getAttribute("data-kind")) {
        var one = new Staged(form, input);
        staged.push(one);
        input.addEventListener("change", function () { one.choose(maxBytes); });
        return;
      }
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
      if (staged.some(function (one) { return one.state === "sending"; })) {
        bar.hidden = false;
        bar.querySelector("progress").hidden = true;
        bar.querySelector("span").textContent = t("pending");
      }
      var waits = pending.concat(staged.map(function (one) { return one.promise; }));
      Promise.all(waits).then(function () {
        bar.querySelector("progress").hidden = false;
        var unsent = staged.filter(function (one) { return one.state === "failed"; })[0];
        if (unsent) {
          done(false);
          bar.hidden = false;
          bar.querySelector("progress").hidden = true;
          bar.querySelector("span").textContent = t("unsent");
          unsent.retry.focus();
          return;
        }
        return Promise.all(pending).then(function (results) {
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
  });
})();
