// Day views: "In observation: 43 of 120 minutes" counts on by itself while the page is open
// (from the dose time the server gave; the page's own reload or the session page has the rest).
(function () {
  "use strict";
  function tick() {
    document.querySelectorAll("[data-observing-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-observing-since"));
      var minimum = el.getAttribute("data-observing-minimum");
      if (isNaN(since)) { return; }
      var minutes = Math.max(0, Math.floor((Date.now() - since) / 60000));
      el.textContent = "In observation: " + minutes + " of " + minimum + " minutes";
    });
  }
  tick();
  window.setInterval(tick, 15000);
})();
