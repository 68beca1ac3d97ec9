// Autosave the consultation note while it is a draft: a dropped connection or a closed tab
// loses at most a few seconds of writing. Signing is always an explicit button.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form) { return; }
  var status = document.getElementById("autosave-status");
  var dirty = false;
  var saving = false;
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });
  function save() {
    if (!dirty || saving) { return; }
    dirty = false;
    saving = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (status) { status.textContent = res.ok ? "Draft saved at " + new Date(res.body.at).toLocaleTimeString() : "Could not save: " + (res.body.detail || "check the form"); }
        var needed = res.ok && res.body.still_needed;
        var box = document.getElementById("still-needed");
        if (needed && box) {
          box.hidden = needed.length === 0;
          document.getElementById("still-needed-count").textContent = String(needed.length);
          var list = document.getElementById("still-needed-list");
          list.textContent = "";
          needed.forEach(function (text) { var li = document.createElement("li"); li.textContent = text; list.appendChild(li); });
        }
      })
      .catch(function () { dirty = true; if (status) { status.textContent = "Offline: will save when the connection is back."; } })
      .finally(function () { saving = false; });
  }
  setInterval(save, 5000);
  window.addEventListener("beforeunload", save);
})();
