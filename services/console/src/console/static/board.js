// Dispatcher board: drag and drop onto a technician's lane (or Enter on a focused visit) asks the
// console for dispatch's rule check and shows it before anything is committed; live updates from
// the SSE stream move a single visit without reloading the page.
(function () {
  "use strict";
  var SNAP = 30 * 60 * 1000;
  var dialog = document.getElementById("drop-dialog");
  var body = document.getElementById("drop-body");
  var dragged = null;

  function gantt() { return document.getElementById("gantt"); }
  function segments() { return JSON.parse(gantt().dataset.segments); }

  // A position in a lane (0..1) back to a time, with the board's segments (one per day shown).
  function timeAt(fraction) {
    var segs = segments();
    var f = Math.min(Math.max(fraction, 0), 0.99999) * segs.length;
    var i = Math.floor(f);
    var s = segs[i];
    var t = s[0] + (f - i) * (s[1] - s[0]);
    var snapped = Math.round(t / SNAP) * SNAP;
    if (snapped < Date.now()) snapped = Math.ceil(Date.now() / SNAP) * SNAP;  // a visit cannot start in the past
    return new Date(snapped);
  }

  function info(el) {
    return {
      job: el.dataset.job,
      appointment: el.dataset.appointment || "",
      windowMin: parseInt(el.dataset.windowMin || "90", 10)
    };
  }

  function openWith(url) {
    htmx.ajax("GET", url, { target: "#drop-body", swap: "innerHTML" }).then(function () {
      if (!dialog.open) dialog.showModal();
      var first = body.querySelector("button, select, input");
      if (first) first.focus();
    });
  }

  function check(item, techId, start) {
    var end = new Date(start.getTime() + item.windowMin * 60000);
    var q = new URLSearchParams({
      job_id: item.job, technician_id: techId, start: start.toISOString(), end: end.toISOString(),
      appointment_id: item.appointment, window_min: String(item.windowMin)
    });
    openWith("/board/check?" + q.toString());
  }

  document.addEventListener("dragstart", function (e) {
    var el = e.target.closest && e.target.closest(".bar[draggable=true], .job[draggable=true]");
    if (!el) return;
    dragged = info(el);
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", dragged.job);
  });
  document.addEventListener("dragend", function () {
    dragged = null;
    document.querySelectorAll(".lane.drop-target").forEach(function (l) { l.classList.remove("drop-target"); });
  });
  document.addEventListener("dragover", function (e) {
    var lane = e.target.closest && e.target.closest(".lane");
    if (!lane || !dragged) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".lane.drop-target").forEach(function (l) { if (l !== lane) l.classList.remove("drop-target"); });
    lane.classList.add("drop-target");
  });
  document.addEventListener("drop", function (e) {
    var lane = e.target.closest && e.target.closest(".lane");
    if (!lane || !dragged) return;
    e.preventDefault();
    lane.classList.remove("drop-target");
    var r = lane.getBoundingClientRect();
    check(dragged, lane.dataset.tech, timeAt((e.clientX - r.left) / r.width));
    dragged = null;
  });

  // The keyboard: Enter (or Space) on a visit or a queued job opens the move dialog.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" && e.key !== " ") return;
    var el = e.target.closest && e.target.closest(".bar[draggable=true], .job[draggable=true]");
    if (!el) return;
    e.preventDefault();
    var it = info(el);
    openWith("/board/move-form?" + new URLSearchParams({ job_id: it.job, appointment_id: it.appointment, window_min: String(it.windowMin) }));
  });

  // Live: an event about a job or ticket moves that one element; a resync reloads the lanes.
  function place(update) {
    if (!update || !update.job_id) return;
    var old = document.getElementById("job-" + update.job_id);
    if (old) old.remove();
    var holder = document.createElement("template");
    if (update.place === "lane") {
      var lane = gantt().querySelector('.lane[data-tech="' + update.technician_id + '"]');
      if (!lane) return;
      holder.innerHTML = update.html.trim();
      var bar = holder.content.firstElementChild;
      lane.appendChild(bar);
      bar.classList.add("flash");
    } else if (update.place === "queue") {
      holder.innerHTML = update.html.trim();
      var item = holder.content.firstElementChild;
      document.getElementById("queue").prepend(item);
      item.classList.add("flash");
    }
    if (update.place === "none" && update.note && old && window.fixflowToast) window.fixflowToast(update.note);
    var n = document.querySelectorAll("#queue > li").length;
    document.getElementById("queue-count").textContent = String(n);
    var shown = document.getElementById("board-count");
    if (shown) shown.textContent = shown.textContent.replace(/\d+/, String(gantt().querySelectorAll(".lane .bar").length));
    document.getElementById("board").dataset.lastUpdate = String(Date.now());
  }

  function refreshJob(data) {
    var g = gantt();
    var q = new URLSearchParams({ day: g.dataset.day, view: g.dataset.view });
    if (data.job_id) q.set("job_id", data.job_id); else if (data.ticket_id) q.set("ticket_id", data.ticket_id); else return;
    // a ticket just opened reaches dispatch a moment later: let the console wait for its job
    if (!data.job_id && /ticket\.(opened|triaged|reopened)/.test(data.type || "")) q.set("wait", "3");
    fetch("/board/job?" + q.toString(), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(place);
  }

  var feed = document.getElementById("board-feed");
  if (feed) {
    feed.addEventListener("htmx:sseMessage", function (e) {
      try { refreshJob(JSON.parse(e.detail.data)); } catch (err) { /* a malformed message is ignored */ }
    });
  }
  var resync = document.getElementById("board-resync");
  if (resync) resync.addEventListener("htmx:sseMessage", function () { htmx.trigger(document.body, "board-refresh"); });
  document.body.addEventListener("board-job", function (e) {
    if (e.detail && e.detail.job_id) refreshJob({ job_id: e.detail.job_id });
  });
})();
