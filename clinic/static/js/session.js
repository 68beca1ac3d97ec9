// The session page stays current while it is open: the observation clock ("in observation: 43 of
// 120 minutes"), what is still missing before signing (the other person at the bedside may have
// recorded something), the 40-minute reading when it falls due, and the discharge and sign
// buttons, which open when the server says so. Without JavaScript the page is the same, as of
// its last load; the server checks every rule again on each write.
(function () {
  "use strict";
  var root = document.getElementById("session");
  if (!root) { return; }
  var url = root.getAttribute("data-status-url");
  var EVERY = 10000;

  function setList(list, items) {
    list.textContent = "";
    if (!items.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "Nothing: the record is complete.";
      list.appendChild(none);
      return;
    }
    items.forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      list.appendChild(li);
    });
  }

  function apply(status) {
    var minutes = root.querySelector("[data-clock-minutes]");
    if (minutes && !status.ended) { minutes.textContent = String(status.minutes); }
    var missing = document.getElementById("missing");
    if (missing) { setList(missing, status.missing); }
    var due = document.getElementById("post-dose-due");
    if (due) { due.hidden = !status.post_dose_due; }
    var discharge = document.getElementById("discharge-button");
    if (discharge) { discharge.disabled = !status.may_discharge; }
    var wait = document.getElementById("discharge-wait");
    if (wait) { wait.hidden = !!status.may_discharge; }
    var sign = document.getElementById("sign-button");
    if (sign) { sign.disabled = status.missing.length > 0; }
    // Dosed or signed elsewhere since this page loaded: the forms shown are out of date.
    var dosedHere = root.hasAttribute("data-dosed-at");
    if ((status.dosed_at && !dosedHere) || (status.signed && missing)) { window.location.reload(); }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) { if (status) { apply(status); } })
      .catch(function () { /* offline: try again at the next tick */ });
  }

  window.setInterval(poll, EVERY);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
})();
