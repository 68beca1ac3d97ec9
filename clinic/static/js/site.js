// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Move focus to the first field with an error so keyboard and screen-reader users land on it.
  document.addEventListener("DOMContentLoaded", function () {
    var firstError = document.querySelector(".field--error input, .field--error select, .field--error textarea");
    if (firstError) { firstError.focus(); }
  });
})();
