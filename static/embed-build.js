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
    if (lang) params.push(["lang", lang]);
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

  // The same WCAG rule as finder/web/contrast.py: say when the colour is too light for links on white.
  var warning = document.querySelector("[data-accent-warning]");
  function luminance(hex) {
    var c = [1, 3, 5].map(function (i) {
      var v = parseInt(hex.substr(i, 2), 16) / 255;
      return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function warn() {
    var accent = String(new FormData(form).get("accent") || defaultAccent).toLowerCase();
    var ratio = 1.05 / (luminance(accent) + 0.05);
    warning.hidden = ratio >= 4.5;
    warning.textContent = warning.hidden ? "" : accent + " is too light to read as text on white (contrast " +
      ratio.toFixed(1) + ":1; WCAG asks for 4.5:1). The finder keeps it for borders and buttons, and shows links " +
      "in a darker shade of it. Choose a darker colour to use yours everywhere.";
  }

  form.addEventListener("change", function () { update(); if (warning) warn(); });

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
