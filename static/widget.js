/* Inside the /embed frame: tell the host page how tall we are, whenever that changes, so it can
 * size the frame to fit. The message is only a number. It goes to the host's origin when the
 * host gave it (the validated `parent` option, set by embed.js), otherwise to any parent: a
 * height is not worth hiding. Progressive enhancement: the widget works without this file.
 */
(function () {
  "use strict";

  if (window.parent === window) return;
  var root = document.querySelector("[data-embed-root]");
  if (!root) return;
  var target = document.body.getAttribute("data-parent-origin") || "*";
  var last = 0;

  function send() {
    var style = window.getComputedStyle(document.body);
    var height = Math.ceil(root.getBoundingClientRect().height + parseFloat(style.marginTop) + parseFloat(style.marginBottom));
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "finder-embed:height", height: height }, target);
  }

  if ("ResizeObserver" in window) {
    new ResizeObserver(send).observe(root);
  } else {
    window.addEventListener("resize", send);
    window.addEventListener("load", send);
  }
  send();

  // Put focus on the error summary so screen readers announce it (as on the full site).
  var summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
})();
