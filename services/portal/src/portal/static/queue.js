// Fixflow technician app: the device's queue of actions (IndexedDB through the vendored `idb`).
// Used by the pages (tech.js) and by the service worker (sw.js). Each action keeps the
// Idempotency-Key it was given when the technician acted; it is sent with that key until the
// portal answers, so a retry after a lost answer applies nothing twice. Nothing leaves the queue
// except by being applied (200) or by the technician discarding what the app showed them.
(function (root) {
  "use strict";
  var DB = "fixflow-tech", STORE = "actions", VERSION = 1;

  function db() {
    return root.idb.openDB(DB, VERSION, {
      upgrade: function (d) {
        var s = d.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
        s.createIndex("key", "key", { unique: true });
      }
    });
  }

  function newKey() {
    if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    var a = new Uint8Array(16); root.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  async function add(wo, kind, data, csrf) {
    var action = { key: newKey(), wo: wo, kind: kind, data: data, csrf: csrf, state: "queued",
                   created_at: new Date().toISOString(), tries: 0, detail: null };
    var d = await db();
    action.seq = await d.add(STORE, action);
    return action;
  }

  async function all() { return (await db()).getAll(STORE); }

  async function put(action) { return (await db()).put(STORE, action); }

  async function remove(seq) { return (await db()).delete(STORE, seq); }

  async function send(action, csrf) {
    return fetch("/tech/api/work-orders/" + encodeURIComponent(action.wo) + "/actions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Idempotency-Key": action.key,
                 "X-CSRF-Token": csrf || action.csrf },
      body: JSON.stringify({ kind: action.kind, data: action.data })
    });
  }

  // Send what waits, in the order it was queued. Stops at the first network failure, server error
  // or ended session (those wait for the next try); a conflict holds the rest of that job's actions.
  async function drainOnce(csrf) {
    var report = { sent: 0, stopped: null, jobs: {} };
    var actions = (await all()).sort(function (a, b) { return a.seq - b.seq; });
    var held = {};
    for (var i = 0; i < actions.length; i++) {
      var a = actions[i];
      if (a.state === "conflict" || a.state === "failed") { held[a.wo] = true; continue; }
      if (report.stopped) continue;
      if (held[a.wo]) {
        a.state = "conflict"; a.detail = a.detail || "held: an earlier action of this job was not applied";
        await put(a); continue;
      }
      var r;
      try {
        a.tries++; r = await send(a, csrf);
      } catch (e) {
        await put(a); report.stopped = "offline"; continue;
      }
      if (r.ok) {
        await remove(a.seq); report.sent++; report.jobs[a.wo] = true;
        continue;
      }
      var body = {};
      try { body = await r.json(); } catch (e) { body = {}; }
      if (r.status === 409) {
        a.state = "conflict"; a.detail = body.detail || "conflict";
        await put(a); held[a.wo] = true; report.jobs[a.wo] = true;
      } else if (r.status === 422 || r.status === 404) {
        a.state = "failed"; a.detail = body.detail || body.title || String(r.status);
        await put(a); held[a.wo] = true;
      } else {
        await put(a);
        report.stopped = r.status === 401 ? "signed-out" : (r.status === 403 ? "expired-form" : "server");
      }
    }
    return report;
  }

  async function drain(csrf) {
    if (root.navigator && root.navigator.locks) {
      return root.navigator.locks.request("fixflow-queue", function () { return drainOnce(csrf); });
    }
    return drainOnce(csrf);
  }

  root.FixflowQueue = { add: add, all: all, remove: remove, drain: drain, newKey: newKey };
})(typeof self !== "undefined" ? self : window);
