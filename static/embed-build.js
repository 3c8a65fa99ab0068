/* "Embed this finder": rewrite the code and the preview as the options change, and copy the code.
 * Without this file the form still works: "Update the code and preview" reloads the page.
 * The snippet text here must match templates/embed/_snippet.html (tests check they agree).
 */
(function () {
  "use strict";

  var form = document.querySelector("[data-embed-build]");
  if (!form) return;
  var publicUrl = form.getAttribute("data-public-url");
  var previewUrl = form.getAttribute("data-preview-url");
  var defaultAccent = form.getAttribute("data-default-accent");
  var snippetBox = document.querySelector("[data-snippet]");
  var iframeBox = document.querySelector("[data-iframe-code]");
  var preview = document.querySelector("[data-embed-preview]");

  function options() {
    var data = new FormData(form);
    var params = [];
    var borough = data.get("borough");
    var lang = data.get("lang");
    var accent = String(data.get("accent") || "").toLowerCase();
    if (borough) params.push(["borough", borough]);
    if (lang && lang !== "en") params.push(["lang", lang]);
    if (accent && accent !== defaultAccent) params.push(["accent", accent]);
    if (data.get("map") === "0") params.push(["map", "0"]);
    return params;
  }

  function escapeAttr(text) {
    return String(text).replace(/&/g, "&amp;").replace(/"/g, "&#34;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function snippet(base, params) {
    var attrs = params.map(function (p) { return " data-" + p[0] + '="' + escapeAttr(p[1]) + '"'; }).join("");
    return '<script src="' + base + '/static/embed.js"' + attrs + " async></script>\n" +
      '<noscript><a href="' + base + '/">Find your local police team</a></noscript>';
  }

  function frameCode(params) {
    var query = new URLSearchParams(params).toString();
    return '<iframe src="' + escapeAttr(publicUrl + "/embed" + (query ? "?" + query : "")) +
      '" title="Find your local police team" width="100%" height="640" style="border: 0"></iframe>';
  }

  function update() {
    var params = options();
    snippetBox.value = snippet(publicUrl, params);
    iframeBox.value = frameCode(params);
    // The preview runs the real snippet: a fresh script element, which adds its own frame.
    while (preview.firstChild) preview.removeChild(preview.firstChild);
    var script = document.createElement("script");
    script.src = previewUrl + "/static/embed.js";
    params.forEach(function (p) { script.setAttribute("data-" + p[0], p[1]); });
    script.async = true;
    preview.appendChild(script);
    var query = new URLSearchParams(params).toString();
    history.replaceState(null, "", form.getAttribute("action") + (query ? "?" + query : ""));
  }

  form.addEventListener("change", update);

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) return;
    var wrapper = button.parentNode;
    var status = wrapper.querySelector("[role=status]");
    wrapper.hidden = false;
    button.addEventListener("click", function () {
      var box = document.getElementById(button.getAttribute("data-copy"));
      navigator.clipboard.writeText(box.value).then(
        function () { status.textContent = "Copied"; },
        function () { box.select(); status.textContent = "Select the code and copy it"; }
      );
    });
  });
})();
