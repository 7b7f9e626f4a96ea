// The desk's live parts: the status and call panel is fetched again every 2 seconds (replaced only
// when its data-key changed, so a screen reader is not told the same thing again), the time in
// status counts up and the wrap-up down, and the page reloads when a new write-up is owed, unless
// a write-up is being typed.
(function () {
  "use strict";
  var region = document.getElementById("desk-live-region");
  var wrapUp = document.getElementById("wrap-up");
  var typing = false;
  // The server's clock minus this browser's, in ms: the counters count in the server's time (the
  // one the hotline decides by), not a staff computer's clock that may be minutes or years off.
  var skew = 0;

  function takeClock(live) {
    if (live && live.dataset.now) { skew = Date.parse(live.dataset.now) - Date.now(); }
  }
  document.querySelectorAll(".wrap-up-form").forEach(function (form) {
    form.addEventListener("input", function () { typing = true; });
  });

  function refresh() {
    fetch(region.dataset.url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok && !response.redirected ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = document.createElement("div");
        fresh.innerHTML = html;
        var live = fresh.querySelector("#desk-live");
        var shown = document.getElementById("desk-live");
        if (!live || (shown && live.dataset.key === shown.dataset.key)) { return; }
        region.replaceChildren(live);
        takeClock(live);
        if (live && wrapUp && live.dataset.owed !== wrapUp.dataset.shown && !typing) {
          window.location.reload();
        }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  function minutes(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    return Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
  }

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("[data-until]").forEach(function (element) {
      element.textContent = minutes((Date.parse(element.dataset.until) - now) / 1000);
    });
    document.querySelectorAll("[data-since]").forEach(function (element) {
      element.textContent = minutes((now - Date.parse(element.dataset.since)) / 1000);
    });
  }

  if (region) {
    takeClock(document.getElementById("desk-live"));
    setInterval(refresh, 2000);
    setInterval(tick, 1000);
  }
}());
