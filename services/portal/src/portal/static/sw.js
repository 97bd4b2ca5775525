// Fixflow technician app: the service worker (scope /tech). It keeps the app's pages and assets so
// they open without a connection, and sends the queued actions when the browser offers a sync.
"use strict";
importScripts("/static/vendor/idb.umd.js", "/static/queue.js");

var CACHE = "fixflow-tech-v4";  // a new name whenever a kept asset changes
var SHELL = [
  "/tech", "/tech/offline", "/static/portal.css", "/static/tech.js", "/static/queue.js",
  "/static/htmx/htmx.min.js", "/static/vendor/idb.umd.js", "/static/vendor/signature_pad.umd.min.js",
  "/static/icon-192.png"
];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (e) {
  var req = e.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {  // assets: the kept copy first
    e.respondWith(caches.match(req).then(function (hit) { return hit || fetch(req); }));
    return;
  }
  if (url.pathname === "/tech" || url.pathname.indexOf("/tech/jobs/") === 0) {  // pages: fresh when online
    e.respondWith(fetch(req).then(function (res) {
      if (res.ok && req.mode === "navigate") {
        var copy = res.clone();
        caches.open(CACHE).then(function (c) { c.put(req, copy); });
      }
      return res;
    }).catch(function () {
      return caches.match(req, { ignoreSearch: true }).then(function (hit) { return hit || caches.match("/tech/offline"); });
    }));
  }
});

// The pages ask the worker to keep today's job pages for offline use.
self.addEventListener("message", function (e) {
  var msg = e.data || {};
  if (msg.type === "keep" && Array.isArray(msg.urls)) {
    e.waitUntil(caches.open(CACHE).then(function (c) {
      return Promise.all(msg.urls.map(function (u) {
        return fetch(u, { credentials: "same-origin" }).then(function (res) { if (res.ok) return c.put(u, res); }).catch(function () {});
      }));
    }));
  }
});

// Background Sync where the browser has it: the queue drains even with the app closed.
self.addEventListener("sync", function (e) {
  if (e.tag !== "fixflow-queue") return;
  e.waitUntil(self.FixflowQueue.drain(null).then(function (report) {
    return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (pages) {  // the open app shows it
      pages.forEach(function (p) { p.postMessage({ type: "queue-drained", report: report }); });
    });
  }));
});
