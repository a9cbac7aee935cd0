// The push-for-coding page follows its push: every second it fetches the
// status JSON and updates the progress bar and counts, until the push is
// no longer running. Text goes in with textContent.
(function () {
  "use strict";
  var page = document.getElementById("push-page");
  if (!page) { return; }
  var url = page.getAttribute("data-status");
  function set(id, v) {
    var el = document.getElementById(id);
    if (el) { el.textContent = String(v); }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        var bar = document.getElementById("push-progress");
        if (bar) { bar.max = s.total; bar.value = s.done; }
        set("push-done", s.done);
        set("push-total", s.total);
        set("push-failed", s.failed);
        set("push-error", s.error || "");
        var st = document.getElementById("push-state");
        if (st) { st.textContent = s.label; st.setAttribute("data-state", s.state); }
        if (s.state === "running") {
          setTimeout(poll, 1000);
        } else {
          var stop = document.getElementById("push-stop-form");
          if (stop) { stop.remove(); }
        }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  if (document.getElementById("push-state").getAttribute("data-state") === "running") {
    setTimeout(poll, 500);
  }
}());
