// Booking: preselect the browser's time zone (the person can still change it), and stop a
// double-clicked confirm from sending twice (the server is idempotent either way).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("[data-detect-zone]");
    if (select && !new URLSearchParams(location.search).has("tz")) {
      try {
        var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
        if (zone && select.querySelector('option[value="' + zone + '"]')) { select.value = zone; }
      } catch (e) { /* keep the server's default */ }
    }
    document.querySelectorAll("form").forEach(function (form) {
      var button = form.querySelector("[data-once]");
      if (!button) { return; }
      form.addEventListener("submit", function () {
        setTimeout(function () { button.disabled = true; button.textContent = "Booking…"; }, 0);
      });
    });
  });
})();
