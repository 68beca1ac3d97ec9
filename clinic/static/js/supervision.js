// The supervision panes beside an at-home session's call (care.supervision): their forms post
// in place, so the call is never interrupted, and the clinician's pane is fetched again every
// few seconds to show the readings the patient sends. Without JavaScript the forms post and the
// page reloads (the call reconnects); the server checks every rule on each write either way.
(function () {
  "use strict";

  function pane() { return document.querySelector("[data-pane]"); }

  function swap(html) {
    var current = pane();
    if (!current) { return; }
    var parsed = new DOMParser().parseFromString(html, "text/html").querySelector("[data-pane]");
    if (parsed) { current.replaceWith(document.importNode(parsed, true)); }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-pane-form")) { return; }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Pane": "1" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.text().then(function (html) {
        if (response.status === 403) { throw new Error("refused"); }
        swap(html);
      });
    }).catch(function () {
      if (button) { button.disabled = false; }
      form.submit(); // let the page itself show what went wrong
    });
  });

  var current = pane();
  var url = current && current.getAttribute("data-pane-url");
  if (url) {
    var every = (parseInt(current.getAttribute("data-refresh"), 10) || 15) * 1000;
    setInterval(function () {
      var active = document.activeElement;
      var typing = active && pane() && pane().contains(active) && active.tagName === "INPUT";
      if (typing || document.hidden) { return; } // never replace what the clinician is typing
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        return response.ok ? response.text().then(swap) : null;
      }).catch(function () { /* the next turn tries again */ });
    }, every);
  }
})();
