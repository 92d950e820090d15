/* The kiosk's service worker (PUB-2), scope /kiosk/: a screen keeps showing the pages it loaded
   when the network drops. Pages come from the network while it answers (and are kept), else as
   they were last kept; a page never kept falls back to the unit's "not kept" page. The kiosk's
   stylesheet and script (fingerprinted, so never stale) are kept when the worker installs. */
"use strict";

var VERSION = {{ version|tojson }};
var ASSETS = {{ assets|tojson }};
var ASSET_CACHE = "kiosk-assets-" + VERSION;
var PAGE_CACHE = "kiosk-pages";
var MAX_PAGES = 300;            // a screen left for months keeps the pages used most recently
var MAX_KEEP_REQUEST = 40;      // pages a screen may ask to keep ahead at once
var NETWORK_TIMEOUT_MS = 8000;  // a server that does not answer counts as a network that is down
var MATCH = {ignoreVary: true};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(ASSET_CACHE).then(function (cache) {
    return cache.addAll(ASSETS);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("kiosk-assets-") === 0 && name !== ASSET_CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function isPage(url) {
  return url.pathname.indexOf("/kiosk/") === 0 && url.pathname !== "/kiosk/ping" && url.pathname !== "/kiosk/sw.js";
}

function keepable(response) {
  return response && response.status === 200 && response.type === "basic" && !response.redirected;
}

function trim(cache) {
  return cache.keys().then(function (keys) {
    return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_PAGES)).map(function (key) { return cache.delete(key); }));
  });
}

function keep(key, response) {
  return caches.open(PAGE_CACHE).then(function (cache) {
    return cache.put(key, response).then(function () { return trim(cache); });
  });
}

function withTimeout(promise) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, NETWORK_TIMEOUT_MS);
    promise.then(function (value) { clearTimeout(timer); resolve(value); },
                 function (error) { clearTimeout(timer); reject(error); });
  });
}

function pageKey(url) {
  return url.origin + url.pathname + url.search;
}

function kept(url, navigate) {
  return caches.match(pageKey(url), MATCH).then(function (hit) {
    if (hit || !navigate) { return hit || Response.error(); }
    var unit = url.pathname.split("/")[2] || "";
    return caches.match(url.origin + "/kiosk/" + unit + "/offline", MATCH).then(function (page) {
      return page || Response.error();
    });
  });
}

function fromNetworkElseKept(event, url) {
  var navigate = event.request.mode === "navigate";
  return withTimeout(fetch(event.request)).then(function (response) {
    if (keepable(response)) {
      var copy = response.clone();
      event.waitUntil(keep(pageKey(url), copy));
    }
    return response;
  }, function () { return kept(url, navigate); });
}

function asset(event) {
  return caches.match(event.request, MATCH).then(function (hit) {
    return hit || fetch(event.request).then(function (response) {
      if (keepable(response)) {
        var copy = response.clone();
        event.waitUntil(caches.open(ASSET_CACHE).then(function (cache) { return cache.put(event.request, copy); }));
      }
      return response;
    });
  });
}

self.addEventListener("fetch", function (event) {
  if (event.request.method !== "GET") { return; }
  var url = new URL(event.request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(asset(event));
  } else if (isPage(url)) {
    event.respondWith(fromNetworkElseKept(event, url));
  }
});

// A page asks to keep pages one touch away (the home screen's categories) and the unit's
// "not kept" page, so they can be read even if the network drops before anyone opened them.
self.addEventListener("message", function (event) {
  var wanted = (event.data && Array.isArray(event.data.keep)) ? event.data.keep.slice(0, MAX_KEEP_REQUEST) : [];
  event.waitUntil(caches.open(PAGE_CACHE).then(function (cache) {
    return Promise.all(wanted.map(function (path) {
      if (typeof path !== "string" || path.indexOf("/kiosk/") !== 0) { return null; }
      var url = new URL(path, self.location.origin);
      if (url.origin !== self.location.origin || !isPage(url)) { return null; }
      return cache.match(pageKey(url), MATCH).then(function (hit) {
        if (hit) { return null; }
        return fetch(url.href, {credentials: "same-origin"}).then(function (response) {
          return keepable(response) ? keep(pageKey(url), response) : null;
        }, function () { return null; });
      });
    }));
  }));
});
