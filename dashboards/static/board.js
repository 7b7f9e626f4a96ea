// The live board: every second, fetch the board's live part (/board/live, rendered on the server)
// and put it in place. No page reload, no connection held open between polls. While someone
// fills in a form of the board, updates wait, so their choice is not wiped out under them.
(function () {
  "use strict";
  var live = document.getElementById("board-live");
  if (!live || !window.fetch) { return; }
  var summary = document.getElementById("board-summary");
  var paused = document.getElementById("board-paused");
  var stale = document.getElementById("board-stale");
  var url = live.getAttribute("data-live-url");
  var every = Number(live.getAttribute("data-interval-ms")) || 1000;
  var inFlight = false;
  var lastUpdate = Date.now();

  function editing() {
    var el = document.activeElement;
    return !!el && live.contains(el) && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName);
  }

  function place(html) {
    var focused = live.contains(document.activeElement) ? document.activeElement.id : "";
    live.innerHTML = html;
    if (focused) {  // keep the keyboard where it was (buttons have ids that outlive a refresh)
      var again = document.getElementById(focused);
      if (again) { again.focus(); }
    }
    announce(false);
    lastUpdate = Date.now();
    stale.hidden = true;
  }

  // The polite live region says the summary when it changes (not on the first load: the page is
  // read then anyway).
  var announced = null;
  function announce(first) {
    var fresh = live.querySelector("[data-summary]");
    var text = fresh ? fresh.getAttribute("data-summary") : "";
    if (!first && announced !== null && text !== announced) { summary.textContent = text; }
    announced = text;
  }

  function refresh() {
    stale.hidden = Date.now() - lastUpdate < 10 * every;
    paused.hidden = !editing();
    if (inFlight || editing()) { return; }
    inFlight = true;
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || response.status === 401 || response.status === 403) {
          window.location.reload();  // the session ended: the page says so (the login page)
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) { if (html !== null && !editing()) { place(html); } })
      .catch(function () { /* the next poll tries again; "stale" shows if it keeps failing */ })
      .then(function () { inFlight = false; });
  }

  announce(true);
  setInterval(refresh, every);
})();
