// Autosave the consultation note while it is a draft: a dropped connection or a closed tab
// loses at most a few seconds of writing. Signing is always an explicit button.
//
// - Offline: the draft stays in the page and is saved when the connection is back.
// - Signed out (the session ended): say so, stop retrying, and keep the draft in the page; once
//   the clinician has signed in again (in another tab), the next save fetches a fresh CSRF token
//   (signing in rotates it) and goes through.
// - Leaving the page: the last save is sent with fetch's keepalive, so the browser does not
//   cancel it.
// - On the consult screen (data-sign-in-place) signing happens in place, after a last save.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form) { return; }
  var status = document.getElementById("autosave-status");
  var dirty = false;
  var saving = null; // the save in flight, a promise
  var signedOut = false;
  var signed = false;

  function say(text) { if (status) { status.textContent = text; } }

  function sayPicture(parts) {
    // Text and a link, built without innerHTML.
    if (!status) { return; }
    status.textContent = "";
    parts.forEach(function (part) {
      if (typeof part === "string") { status.appendChild(document.createTextNode(part)); return; }
      var a = document.createElement("a");
      a.href = part.href; a.textContent = part.text; a.target = "_blank"; a.rel = "noopener";
      status.appendChild(a);
    });
  }

  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });

  function post(url, keepalive) {
    return fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      // A signed-out request is redirected to the sign-in page: see it, do not follow it.
      redirect: "manual",
      keepalive: !!keepalive,
    });
  }

  function isSignedOut(r) { return r.type === "opaqueredirect" || r.status === 401; }

  function onSignedOut() {
    signedOut = true;
    dirty = true;
    var next = location.pathname;
    sayPicture([
      "Signed out — ",
      { href: form.dataset.loginUrl + "?next=" + encodeURIComponent(next), text: "sign in again" },
      ", your draft is kept on this page and saves as soon as you are back.",
    ]);
  }

  // After signing in again the page's CSRF token no longer matches: ask for the current one.
  function refreshToken() {
    return fetch(form.dataset.tokenUrl, { credentials: "same-origin", headers: { Accept: "application/json" }, redirect: "manual" })
      .then(function (r) {
        if (isSignedOut(r) || !r.ok) { return false; }
        return r.json().then(function (body) {
          var input = form.querySelector("input[name=csrfmiddlewaretoken]");
          if (!input || !body.csrf) { return false; }
          input.value = body.csrf;
          return true;
        });
      })
      .catch(function () { return false; });
  }

  // POST with one retry after a fresh token; resolves with {ok, body} or {signedOut} or {offline}.
  function send(url, retried) {
    return post(url).then(function (r) {
      if (isSignedOut(r)) { return { signedOut: true }; }
      if (r.status === 403 && !retried) {
        return refreshToken().then(function (fresh) { return fresh ? send(url, true) : { signedOut: true }; });
      }
      return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; },
        function () { return { ok: false, status: r.status, body: {} }; });
    }, function () { return { offline: true }; });
  }

  function showNeeded(needed) {
    var box = document.getElementById("still-needed");
    if (!needed || !box) { return; }
    box.hidden = needed.length === 0;
    document.getElementById("still-needed-count").textContent = String(needed.length);
    var list = document.getElementById("still-needed-list");
    list.textContent = "";
    needed.forEach(function (text) { var li = document.createElement("li"); li.textContent = text; list.appendChild(li); });
  }

  function save(force) {
    if (signed) { return Promise.resolve(true); }
    if (saving) { return saving.then(function () { return dirty ? save(force) : true; }); }
    if (!dirty || (signedOut && !force)) { return Promise.resolve(!dirty); }
    dirty = false;
    saving = send(form.action).then(function (res) {
      if (res.signedOut) { onSignedOut(); return false; }
      if (res.offline) { dirty = true; say("Offline: will save when the connection is back."); return false; }
      signedOut = false;
      if (res.ok) {
        say("Draft saved at " + new Date(res.body.at).toLocaleTimeString());
        showNeeded(res.body.still_needed);
        return true;
      }
      say("Could not save: " + (res.body.detail || "check the form"));
      return false;
    }).finally(function () { saving = null; });
    return saving;
  }

  setInterval(function () { save(false); }, 5000);
  // Back in the tab (perhaps after signing in again elsewhere): try at once.
  window.addEventListener("focus", function () { if (signedOut) { save(true); } });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && signedOut) { save(true); }
    if (document.visibilityState === "hidden") { leaving(); }
  });
  window.addEventListener("pagehide", leaving);
  function leaving() {
    if (!dirty || signed || signedOut) { return; }
    dirty = false;
    post(form.action, true).catch(function () { /* nothing more can be done while leaving */ });
  }
  // Signed out with unsaved writing: the browser asks before the page is closed.
  window.addEventListener("beforeunload", function (event) {
    if (signedOut && dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  // Signing in place (the consult screen): the last words saved, then signed, on this screen.
  var signButton = document.getElementById("sign-note");
  if (form.hasAttribute("data-sign-in-place")) {
    // "Save draft" (or Enter in a field) saves here too, without leaving the screen.
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      dirty = true;
      save(true);
    });
  }
  if (signButton && form.hasAttribute("data-sign-in-place")) {
    signButton.addEventListener("click", function (event) {
      event.preventDefault();
      signButton.disabled = true;
      dirty = true;
      save(true).then(function (saved) {
        if (!saved) { return null; }
        say("Signing…");
        return send(form.dataset.signUrl);
      }).then(function (res) {
        if (!res) { return; }
        if (res.signedOut) { onSignedOut(); return; }
        if (res.offline) { say("Offline: the note is not signed yet. Try again when the connection is back."); return; }
        if (res.ok && res.body.signed) { showSigned(res.body.signed_at); return; }
        showNeeded(res.body.problems || []);
        var box = document.getElementById("still-needed");
        if (box) { box.open = true; }
        say("Not signed yet: complete what is listed below.");
      }).finally(function () { if (!signed) { signButton.disabled = false; } });
    });
  }

  function showSigned(at) {
    signed = true;
    form.querySelectorAll("input, select, textarea, button").forEach(function (el) { el.disabled = true; });
    var bar = form.querySelector(".sign-bar");
    if (bar) { bar.hidden = true; }
    var done = document.getElementById("note-signed");
    if (done) {
      var when = document.getElementById("note-signed-at");
      if (when && at) { when.textContent = " at " + new Date(at).toLocaleTimeString(); }
      done.hidden = false;
      done.focus();
    }
  }
})();
