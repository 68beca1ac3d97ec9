// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  function busy() {
    var active = document.activeElement;
    return active && active !== document.body && /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(active.tagName);
  }
  document.addEventListener("DOMContentLoaded", function () {
    // Move focus to the first field with an error so keyboard and screen-reader users land on it.
    var firstError = document.querySelector(".field--error input, .field--error select, .field--error textarea");
    if (firstError) { firstError.focus(); }
    // Live lists (the clinician's dashboard): a small fingerprint of the list is polled, and the
    // page reloads only when it changed (a patient arrived, was blocked, an urgent item came),
    // never while someone is typing or has a control focused.
    var live = document.querySelector("[data-pulse-url]");
    if (live) {
      var first = live.dataset.pulse || null;
      var stale = false;
      var loadedAt = Date.now();
      setInterval(function () {
        if (document.visibilityState !== "visible") { return; }
        // Times move on too (a visit opens 10 minutes before): reload every few minutes anyway.
        if (stale || Date.now() - loadedAt > 5 * 60 * 1000) {
          if (!busy()) { location.reload(); }
          return;
        }
        fetch(live.dataset.pulseUrl, { credentials: "same-origin", headers: { Accept: "application/json" }, redirect: "manual" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (body) {
            if (!body) { return; }
            if (first === null) { first = body.pulse; return; }
            if (body.pulse !== first) { stale = true; if (!busy()) { location.reload(); } }
          })
          .catch(function () { /* try again at the next tick */ });
      }, 4000);
    }
  });
})();
