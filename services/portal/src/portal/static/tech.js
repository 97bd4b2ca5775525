// Fixflow technician app: the pages' behaviour. Every action becomes an entry in the device's
// queue (queue.js) before anything is sent, so it is the same whether the phone is online or not;
// the queue is sent at once when online and again whenever the connection comes back.
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.dataset.csrf;
  var wo = body.dataset.wo || null;
  var T = function (name) { return body.dataset["msg" + name] || name; };  // texts in the page's language
  var Q = window.FixflowQueue;
  var pad = null;

  // --- service worker: pages and assets for offline use --------------------------------------------
  if ("serviceWorker" in navigator && csrf) {  // signed in: the sign-in page is never kept
    navigator.serviceWorker.register("/tech/sw.js", { scope: "/tech" }).then(function (reg) {
      var urls = Array.prototype.map.call(document.querySelectorAll("a[data-keep]"), function (a) { return a.getAttribute("href"); });
      urls.push(location.pathname);
      var send = function (w) { if (w) w.postMessage({ type: "keep", urls: urls }); };
      send(reg.active || reg.waiting || reg.installing);
      navigator.serviceWorker.ready.then(function (r) { send(r.active); });
    }).catch(function () {});
  }

  // --- the queue panel --------------------------------------------------------------------------------
  var panel = document.getElementById("queue");
  var line = document.getElementById("connection");

  function showConnection() {
    if (!line) return;
    line.textContent = navigator.onLine ? "" : T("Offline");
    line.hidden = navigator.onLine;
  }

  function describe(a) {
    return (body.dataset["kind" + a.kind.replace(/_(\w)/g, function (m, c) { return c.toUpperCase(); }).replace(/^\w/, function (c) { return c.toUpperCase(); })] || a.kind);
  }

  // Either the page or the service worker (Background Sync) may send an action, whichever comes first;
  // "everything is sent" holds from the first one sent until the technician queues the next action.
  // Nothing leaves the queue but by being applied (or dismissed by the technician, which only stuck
  // actions can be): a queue that showed waiting actions and is now empty has been sent.
  var sentSinceQueued = false, shownWaiting = 0;

  async function render(report) {
    if (report && report.sent) sentSinceQueued = true;
    if (!panel) return;
    var actions = (await Q.all()).filter(function (a) { return !wo || a.wo === wo || a.state !== "queued"; });
    var waiting = actions.filter(function (a) { return a.state === "queued"; });
    var stuck = actions.filter(function (a) { return a.state !== "queued"; });
    if (shownWaiting && !waiting.length) sentSinceQueued = true;
    shownWaiting = waiting.length;
    var list = panel.querySelector("ul");
    var summary = panel.querySelector("[data-summary]");
    list.innerHTML = "";
    if (!waiting.length && !stuck.length) {
      summary.textContent = sentSinceQueued ? T("AllSent") : T("NothingWaiting");
    } else {
      summary.textContent = waiting.length ? T("Waiting").replace("{n}", waiting.length) : T("NeedsAttention");
    }
    actions.forEach(function (a) {
      var li = document.createElement("li");
      li.dataset.state = a.state;
      var what = document.createElement("span");
      what.textContent = describe(a) + (a.wo !== wo ? " · " + a.wo : "");
      li.appendChild(what);
      var state = document.createElement("span");
      state.className = "state";
      state.textContent = a.state === "queued" ? T("StateQueued") : (a.state === "conflict" ? T("StateConflict") : T("StateFailed"));
      li.appendChild(state);
      if (a.detail) {
        var d = document.createElement("p"); d.className = "detail"; d.textContent = a.detail; li.appendChild(d);
      }
      if (a.state !== "queued") {
        var kept = document.createElement("pre"); kept.className = "kept";
        kept.textContent = JSON.stringify(a.data, function (k, v) { return (k === "data" && typeof v === "string" && v.indexOf("data:") === 0) ? "[image]" : v; }, 1);
        li.appendChild(kept);
        var b = document.createElement("button"); b.type = "button"; b.className = "link";
        b.textContent = T("Dismiss");
        b.addEventListener("click", async function () { await Q.remove(a.seq); render(); });
        li.appendChild(b);
      }
      list.appendChild(li);
    });
    panel.hidden = false;
  }

  var draining = false, again = false;
  async function drain() {
    if (draining) { again = true; return; }
    draining = true;
    try {
      do {
        again = false;
        if (!navigator.onLine) break;
        var report = await Q.drain(csrf);
        await render(report);
        if (report.stopped === "signed-out" && panel) { panel.querySelector("[data-summary]").textContent = T("SignInAgain"); }
        if (wo && report.jobs[wo]) refreshStatus();
        retryLater(report.stopped === "offline" || report.stopped === "server");
      } while (again);
    } finally { draining = false; }
  }

  // A connection that has just come back often fails the first request: try again soon, then less often.
  var retryTimer = null, retryDelay = 2000;
  function retryLater(needed) {
    if (!needed) { retryDelay = 2000; return; }
    if (retryTimer) return;
    retryTimer = setTimeout(function () { retryTimer = null; drain(); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  // What the service worker sent on its own shows here too.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (e) {
      var msg = e.data || {};
      if (msg.type !== "queue-drained" || !msg.report) return;
      render(msg.report);
      if (wo && msg.report.jobs && msg.report.jobs[wo]) refreshStatus();
    });
  }

  function refreshStatus() {
    var box = document.getElementById("status");
    if (!box || !wo) return;
    fetch("/tech/jobs/" + encodeURIComponent(wo) + "/status", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) box.innerHTML = html; })
      .catch(function () {});
  }

  async function queue(kind, data, note) {
    await Q.add(wo, kind, data, csrf);
    sentSinceQueued = false;
    if (note) { var n = document.getElementById("note"); if (n) { n.textContent = note; } }
    await render();
    if ("serviceWorker" in navigator && "SyncManager" in window) {
      navigator.serviceWorker.ready.then(function (r) { return r.sync.register("fixflow-queue"); }).catch(function () {});
    }
    drain();
  }

  window.addEventListener("online", function () { showConnection(); drain(); });
  window.addEventListener("offline", showConnection);
  setInterval(drain, 30000);

  // --- where the technician is (optional, never waits long) ----------------------------------------------
  function position() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve({});
      var done = false;
      setTimeout(function () { if (!done) { done = true; resolve({}); } }, 1500);
      navigator.geolocation.getCurrentPosition(function (p) {
        if (!done) { done = true; resolve({ lat: p.coords.latitude, lon: p.coords.longitude }); }
      }, function () { if (!done) { done = true; resolve({}); } }, { timeout: 1500, maximumAge: 60000 });
    });
  }

  // --- photos: made smaller on the phone before they are kept ------------------------------------------
  function shrink(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file), img = new Image();
      img.onload = function () {
        var max = 1600, w = img.naturalWidth, h = img.naturalHeight, k = Math.min(1, max / Math.max(w, h));
        var c = document.createElement("canvas"); c.width = Math.round(w * k); c.height = Math.round(h * k);
        c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
        URL.revokeObjectURL(url);
        resolve(c.toDataURL("image/jpeg", 0.82));
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("not a picture")); };
      img.src = url;
    });
  }

  document.querySelectorAll("input[type=file][data-photo]").forEach(function (input) {
    input.addEventListener("change", async function () {
      var files = Array.prototype.slice.call(input.files || []);
      for (var i = 0; i < files.length; i++) {
        var data;
        try { data = await shrink(files[i]); } catch (e) { continue; }
        var id = "ph-" + Q.newKey().replace(/-/g, "").slice(0, 24);
        var caption = input.dataset.photo || "";
        await queue("photo", { image: { id: id, data: data }, caption: caption }, T("PhotoKept"));
        var target = input.dataset.answer && document.getElementById(input.dataset.answer);
        if (target) target.value = id;
        var thumbs = document.getElementById(input.dataset.thumbs || "");
        if (thumbs) { var im = document.createElement("img"); im.src = data; im.alt = caption; thumbs.appendChild(im); }
      }
      input.value = "";
    });
  });

  // --- the signature ------------------------------------------------------------------------------------
  var canvas = document.getElementById("signature");
  if (canvas && window.SignaturePad) {
    var fit = function () {
      var ratio = Math.max(window.devicePixelRatio || 1, 1), data = pad && !pad.isEmpty() ? pad.toData() : null;
      canvas.width = canvas.offsetWidth * ratio; canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      if (pad) { pad.clear(); if (data) pad.fromData(data); }
    };
    pad = new window.SignaturePad(canvas, { backgroundColor: "rgb(255,255,255)" });
    fit();
    window.addEventListener("resize", fit);
    var clear = document.getElementById("signature-clear");
    if (clear) clear.addEventListener("click", function () { pad.clear(); });
  }

  // --- the forms ----------------------------------------------------------------------------------------
  function checklistAnswers() {
    var form = document.getElementById("checklist");
    var out = {}, missing = [];
    if (!form) return { answers: out, missing: missing };
    form.querySelectorAll("[data-item]").forEach(function (el) {
      var key = el.dataset.item, value;
      if (el.type === "checkbox") value = el.checked;
      else if (el.type === "number") value = el.value === "" ? null : Number(el.value);
      else if (el.tagName === "SELECT" || el.type === "radio") {
        if (el.type === "radio") { if (!el.checked) return; }
        value = el.value || null;
        if (value !== null && el.hasAttribute("data-bool")) value = value === "yes";
      } else value = el.value.trim() || null;
      if (value !== null && (value !== false || el.hasAttribute("data-bool"))) out[key] = value;
    });
    form.querySelectorAll("[data-required]").forEach(function (el) {
      var key = el.dataset.required;
      if (out[key] === undefined) missing.push(el.dataset.label || key);
    });
    return { answers: out, missing: missing };
  }

  function parts(form) {
    var rows = [];
    form.querySelectorAll("[data-part-row]").forEach(function (row) {
      var code = row.querySelector("[name=part_code]"), qty = row.querySelector("[name=quantity]");
      if (code && code.value && Number(qty.value) > 0) rows.push({ part_code: code.value, quantity: Number(qty.value) });
    });
    return rows;
  }

  function say(form, text) {
    var out = form.querySelector("[role=alert]");
    if (out) { out.textContent = text; out.hidden = !text; if (text) out.focus(); }
  }

  var handlers = {
    en_route: async function () { return position(); },
    arrive: async function () { return position(); },
    absent: async function (form) { return Object.assign(await position(), { note: form.note.value }); },
    checklist: async function () { return { answers: checklistAnswers().answers }; },
    work: async function (form) {
      return { diagnosis: form.diagnosis.value, labour_minutes: Number(form.labour_minutes.value || 0), parts: parts(form) };
    },
    needs_parts: async function (form) {
      var p = parts(form);
      if (!p.length) throw new Error(T("NameParts"));
      return { parts: p, note: form.note.value };
    },
    complete: async function (form) {
      var c = checklistAnswers();
      if (c.missing.length) throw new Error(T("ChecklistMissing") + " " + c.missing.join(", "));
      if (!pad || pad.isEmpty()) throw new Error(T("SignatureMissing"));
      if (!form.signed_by.value.trim()) throw new Error(T("NameMissing"));
      var rating = form.querySelector("[name=rating]:checked");
      return {
        answers: c.answers, resolution_code: form.resolution_code.value, signed_by: form.signed_by.value.trim(),
        diagnosis: form.diagnosis ? form.diagnosis.value : "", parts: parts(form),
        labour_minutes: form.labour_minutes ? Number(form.labour_minutes.value || 0) : 0,
        signed_at: new Date().toISOString(), rating: rating ? Number(rating.value) : null,
        signature: { id: "sig-" + Q.newKey().replace(/-/g, "").slice(0, 24), data: pad.toDataURL("image/png") }
      };
    }
  };

  document.querySelectorAll("form[data-action]").forEach(function (form) {
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      var kind = form.dataset.action, data;
      try { data = await handlers[kind](form); } catch (err) { say(form, err.message); return; }
      say(form, "");
      await queue(kind, data, form.dataset.done || "");
      if (kind === "work" || kind === "needs_parts") form.reset();
      if (kind === "complete" || kind === "absent" || kind === "needs_parts") {
        document.querySelectorAll("form[data-action]").forEach(function (f) { if (f !== form) f.classList.add("done"); });
      }
    });
  });

  document.querySelectorAll("[data-add-part]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var list = document.getElementById(btn.dataset.addPart), row = list.querySelector("[data-part-row]");
      var copy = row.cloneNode(true);
      copy.querySelectorAll("input").forEach(function (i) { i.value = i.name === "quantity" ? "1" : ""; });
      list.appendChild(copy);
    });
  });

  showConnection();
  render().then(drain);
})();
