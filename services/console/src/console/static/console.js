// Fixflow console: small page helpers (htmx does the rest). No framework, no CDN.
(function () {
  "use strict";
  document.addEventListener("htmx:sseOpen", function () {
    var s = document.getElementById("live-status");
    if (s) s.hidden = false;
  });
  document.addEventListener("htmx:sseError", function () {
    var s = document.getElementById("live-status");
    if (s) s.hidden = true;
  });
  // A session that ended while the page was open: htmx follows HX-Redirect to the sign-in page.
  // Errors htmx does not swap (5xx, network) are told in the toast, never lost silently.
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    toast((xhr.status || "") + " " + (xhr.statusText || "error"));
  });
  document.addEventListener("htmx:sendError", function () { toast(document.body.dataset.lang === "en" ? "The console cannot be reached." : "无法连接控制台。"); });
  window.fixflowToast = toast;
  document.body.addEventListener("fixflow-notice", function (e) { if (e.detail && e.detail.text) toast(e.detail.text); });
  function toast(text) {
    var t = document.getElementById("toast");
    if (!t) return;
    t.textContent = text;
    clearTimeout(toast._t);
    toast._t = setTimeout(function () { t.textContent = ""; }, 8000);
  }
  // After a form swap that carries a problem, move focus to it so keyboard and screen-reader users hear it.
  document.addEventListener("htmx:afterSwap", function (e) {
    var p = e.detail.target.querySelector && e.detail.target.querySelector("[role=alert]");
    if (p) { p.setAttribute("tabindex", "-1"); p.focus(); }
  });
})();
