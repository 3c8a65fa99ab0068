/* The finder on another site. A council pastes:
 *   <script src="https://<finder>/static/embed.js" data-borough="E09000033" async></script>
 * and this script puts the finder's /embed page in a frame right after itself. The frame tells
 * us its height (a number, nothing else) and we size it to fit; we believe only messages from
 * the finder's own origin and from our own frame. Options: data-borough, data-lang, data-accent,
 * data-map ("0" for no map). Nothing from the host page is sent except its origin, so the
 * finder can address its height messages to this page alone.
 */
(function () {
  "use strict";

  var OPTIONS = ["borough", "lang", "accent", "map"];
  var MESSAGE = "finder-embed:height";

  function ownScript() {
    if (document.currentScript) return document.currentScript;
    var scripts = document.querySelectorAll('script[src*="/static/embed.js"]:not([data-finder-embedded])');
    return scripts.length ? scripts[0] : null;
  }

  var script = ownScript();
  if (!script || script.hasAttribute("data-finder-embedded")) return;
  script.setAttribute("data-finder-embedded", "");

  var finder = new URL(script.src, document.baseURI);
  var origin = finder.origin;
  var params = new URLSearchParams();
  OPTIONS.forEach(function (name) {
    var value = script.getAttribute("data-" + name);
    if (value) params.set(name, value);
  });
  if (/^https?:$/.test(window.location.protocol)) params.set("parent", window.location.origin);

  var frame = document.createElement("iframe");
  frame.src = origin + "/embed?" + params.toString();
  frame.title = "Find your local police team";
  frame.className = "finder-embed";
  frame.setAttribute("scrolling", "no");
  frame.style.display = "block";
  frame.style.width = "100%";
  frame.style.border = "0";
  frame.style.height = "520px";
  script.parentNode.insertBefore(frame, script.nextSibling);

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || data.type !== MESSAGE || typeof data.height !== "number" || !isFinite(data.height)) return;
    var height = Math.min(10000, Math.max(100, Math.ceil(data.height)));
    frame.style.height = height + "px";
  });
})();
