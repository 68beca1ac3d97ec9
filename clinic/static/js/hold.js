// The held time's countdown: "kept for you for 8:41 more", then a plain message when it runs out.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-hold-expires]").forEach(function (box) {
      var ends = Date.parse(box.getAttribute("data-hold-expires"));
      var clock = box.querySelector("[data-hold-clock]");
      if (!clock || isNaN(ends)) { return; }
      function tick() {
        var left = Math.max(0, Math.round((ends - Date.now()) / 1000));
        if (left === 0) {
          box.textContent = "The time we kept for you has run out. You can still finish this step; you will choose a time again.";
          return;
        }
        clock.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
        setTimeout(tick, 1000);
      }
      tick();
    });
  });
})();
