// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Move focus to the first field with an error so keyboard and screen-reader users land on it.
  document.addEventListener("DOMContentLoaded", function () {
    var firstError = document.querySelector(".field--error input, .field--error select, .field--error textarea");
    if (firstError) { firstError.focus(); }
    // Live lists (the clinician's dashboard): reload now and then, but never while someone is
    // typing or has a control focused.
    var live = document.querySelector("[data-refresh]");
    if (live) {
      setInterval(function () {
        var active = document.activeElement;
        var busy = active && active !== document.body && /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(active.tagName);
        if (!busy && document.visibilityState === "visible") { location.reload(); }
      }, (parseInt(live.dataset.refresh, 10) || 30) * 1000);
    }
  });
})();
