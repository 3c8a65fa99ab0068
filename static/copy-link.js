/* The People page's one-time link: a Copy button beside the read-only box, shown only where the Clipboard API
   is (a secure context). "Link copied" is said in the page's live region. The box works without this file. */
(function () {
  "use strict";

  document.querySelectorAll("[data-copy-link]").forEach(function (button) {
    var box = document.getElementById(button.getAttribute("data-copy-link"));
    var said = document.getElementById(button.getAttribute("data-copied"));
    if (!box || !said || !navigator.clipboard) return;
    box.addEventListener("focus", function () { box.select(); });
    button.hidden = false;
    button.addEventListener("click", function () {
      said.textContent = "";
      navigator.clipboard.writeText(box.value).then(
        function () { said.textContent = "Link copied"; },
        function () { box.focus(); said.textContent = "The link could not be copied: it is selected, so copy it with Ctrl+C (Cmd+C on a Mac)"; }
      );
    });
  });
})();
