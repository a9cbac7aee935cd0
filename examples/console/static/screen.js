// The dashboard (大屏) refreshes itself: every 10 s it fetches
// /console/screen.json and updates the totals, the trend chart, the
// rankings and the anomaly banners. Text goes in with textContent; the
// trend chart is server-rendered markup.
(function () {
  "use strict";
  function text(id, v) {
    var el = document.getElementById(id);
    if (el) { el.textContent = String(v); }
  }
  function ranked(id, rows) {
    var ol = document.getElementById(id);
    if (!ol) { return; }
    ol.replaceChildren();
    rows.forEach(function (r) {
      var li = document.createElement("li");
      var s = document.createElement("span");
      s.textContent = r.Label;
      var b = document.createElement("b");
      b.textContent = String(r.Count);
      li.append(s, b);
      ol.append(li);
    });
  }
  function banners(list) {
    var box = document.getElementById("banners");
    if (!box) { return; }
    box.replaceChildren();
    list.forEach(function (a) {
      var d = document.createElement("div");
      d.className = "banner";
      d.textContent = a;
      box.append(d);
    });
  }
  function refresh() {
    fetch("/console/screen.json", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status !== 200) { throw new Error("screen.json: " + r.status); }
        return r.json();
      })
      .then(function (d) {
        text("t-red", d.today.Red);
        text("t-yellow", d.today.Yellow);
        text("t-green", d.today.Green);
        text("updated", d.updated);
        var trend = document.getElementById("trend");
        if (trend) { trend.innerHTML = d.trend; }
        ranked("causes", d.causes);
        ranked("regions", d.regions);
        banners(d.anomalies);
        document.body.dataset.refreshed = String(Date.now());
      })
      .catch(function () {
        document.body.classList.add("stale");
      });
  }
  setInterval(refresh, 10000);
  document.addEventListener("DOMContentLoaded", function () {
    document.body.dataset.refresh = "10000";
  });
})();
