/* Staff pages: warn before leaving a form with unsaved changes. The forms work without this file. */
(function () {
  "use strict";

  var dirty = new Set();
  document.querySelectorAll("form[data-unsaved-warning]").forEach(function (form) {
    form.addEventListener("input", function () { dirty.add(form); });
    form.addEventListener("change", function () { dirty.add(form); });
    form.addEventListener("submit", function () { dirty.clear(); });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty.size === 0) return;
    event.preventDefault();
    event.returnValue = "";  // browsers show their own "Leave site? Changes you made may not be saved."
  });

  var summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
})();
