// The service worker of the public pages (served as /sw.js, preceded by its settings: the shell
// list, the offline page, the public pages it may answer offline, and the release version).
// It keeps only the public shell — home, tracking and code-recovery forms, the offline page,
// styles, scripts and icons — and answers:
//   * the shell pages: network first, the kept copy when the network fails;
//   * the other public pages of the list: network, else the offline page;
//   * the shell's static files: the kept copy, refreshed in the background;
//   * everything else (staff pages, the API, receipts, tracking status, documents): not touched.
/* global self, caches, fetch, Response */
"use strict";
var SETTINGS = self.SIBALANG || { shell: [], offline: "/offline", fallback: [], version: "0" };
var CACHE = "sibalang-shell-" + SETTINGS.version;
var SHELL = SETTINGS.shell;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      // one by one: a file that fails (a bad connection) does not keep the others out
      return Promise.all(SHELL.map(function (url) {
        return fetch(url, { credentials: "omit", cache: "reload" }).then(function (response) {
          if (response.ok && !noStore(response)) return cache.put(url, response);
        }).catch(function () { return null; });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) {
        return key.indexOf("sibalang-shell-") === 0 && key !== CACHE;
      }).map(function (key) { return caches.delete(key); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function noStore(response) {
  return /no-store|private/.test(response.headers.get("Cache-Control") || "");
}

function pathOf(url) {
  return url.origin === self.location.origin ? url.pathname : null;
}

function fromNetworkKeeping(request, key) {
  return fetch(request).then(function (response) {
    if (response.ok && response.type === "basic" && !noStore(response)) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
    }
    return response;
  });
}

function offlinePage() {
  return caches.match(SETTINGS.offline).then(function (page) {
    return page || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  var path = pathOf(url);
  if (path === null) return;
  var plain = !url.search;
  if (request.mode === "navigate") {
    if (plain && SHELL.indexOf(path) >= 0) {
      event.respondWith(fromNetworkKeeping(request, path).catch(function () {
        return caches.match(path).then(function (kept) { return kept || offlinePage(); });
      }));
    } else if (SETTINGS.fallback.indexOf(path) >= 0) {
      event.respondWith(fetch(request).catch(offlinePage));
    }
    return;
  }
  if (SHELL.indexOf(path + url.search) >= 0) {
    var key = path + url.search;
    event.respondWith(caches.match(key).then(function (kept) {
      var fresh = fromNetworkKeeping(request, key);
      if (kept) { fresh.catch(function () { return null; }); return kept; }
      return fresh;
    }));
  }
});
