// Booking: preselect the browser's time zone (the person can still change it), and stop a
// double-clicked confirm from sending twice (the server is idempotent either way).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // The zone the device reports, when it is one of ours; otherwise the person is asked.
    var select = document.querySelector("[data-detect-zone]");
    if (select && !select.value) {
      var zone = "";
      try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
      if (zone === "Etc/UTC" || zone === "Etc/GMT") { zone = "UTC"; }
      var option = zone && select.querySelector('option[value="' + zone.replace(/"/g, "") + '"]');
      if (option) {
        select.value = zone;
      } else {
        var ask = document.querySelector("[data-zone-ask]");
        if (ask) { ask.hidden = false; select.setAttribute("aria-describedby", "tz-ask"); ask.id = "tz-ask"; }
      }
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
