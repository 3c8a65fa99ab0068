/* Draws what varies on a ward's map: the searched point and the nearest front counters.
 * The map script (/maps/<code>.js) holds only the ward boundaries and defines map_finder; this
 * file reads the rest as JSON from the map's data-map attribute and puts every piece of text in
 * with textContent alone, so names from the store are only ever text.
 */
(function () {
  "use strict";

  var map = window.map_finder;
  var element = document.getElementById("map_finder");
  if (!map || !window.L || !element) return;
  var data = JSON.parse(element.getAttribute("data-map") || "{}");
  var section = element.closest(".map-section");
  if (section) section.classList.add("map-ready");
  // The server's drawing of the ward, for pages without JavaScript: the live map replaces it.
  var outline = element.querySelector(".ward-outline");
  if (outline) outline.parentNode.removeChild(outline);

  // Background tiles, with their credit as the operator wrote it (trusted configuration, HTML).
  if (data.tiles) {
    L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
  }

  function text(tag, value, className) {
    var node = document.createElement(tag);
    node.textContent = value;
    if (className) node.className = className;
    return node;
  }

  if (data.point) {
    L.circleMarker(data.point, {
      radius: 8, color: "#0b0c0c", weight: 3, fill: true, fillColor: "#ffdd00", fillOpacity: 1
    }).bindTooltip(text("span", data.pointLabel)).addTo(map);
  }

  // A click on a station opens its popup and must not also reach the map (which looks the place up).
  var placeStyle = {
    radius: 8, color: "#0b0c0c", weight: 2, fillColor: "#912b88", fillOpacity: 1, bubblingMouseEvents: false
  };
  (data.places || []).forEach(function (place) {
    var box = text("div", "", "map-place");
    box.appendChild(text("strong", place.name));
    place.lines.forEach(function (line) { box.appendChild(text("div", line)); });
    L.circleMarker([place.lat, place.lon], placeStyle).bindPopup(box).bindTooltip(text("span", place.name)).addTo(map);
  });

  // The outlines are pictures: every ward on them is a link in the page. Keep them out of the tab
  // order (Leaflet makes a shape with a tooltip focusable), so keyboard users meet named controls only.
  function unfocusable() {
    element.querySelectorAll(".leaflet-overlay-pane path, .leaflet-marker-pane [tabindex]").forEach(function (shape) {
      shape.setAttribute("tabindex", "-1");
      shape.setAttribute("aria-hidden", "true");
    });
  }
  unfocusable();
  map.on("layeradd", unfocusable);

  // A tap or click asks first ("Look up this place?"): a slip of the finger never leaves the page.
  // Its words and /locate's address (keeping the page's ?lang=) come from the instruction's data attributes.
  var instruction = document.querySelector("[data-map-instruction]");
  if (!instruction) return;
  instruction.hidden = false;
  // On touch screens one finger scrolls the page, not the map; buttons and pinch still zoom.
  if (L.Browser.mobile) map.dragging.disable();
  map.on("click", function (event) {
    var box = text("div", "", "map-ask-box");
    box.appendChild(text("p", instruction.getAttribute("data-ask"), "map-ask"));
    var button = text("button", instruction.getAttribute("data-ask-button"), "button map-ask-button");
    button.type = "button";
    button.setAttribute("data-map-lookup", "");
    button.addEventListener("click", function () {
      var base = instruction.getAttribute("data-locate");
      window.location.href = base + (base.indexOf("?") < 0 ? "?" : "&") +
        "lat=" + encodeURIComponent(event.latlng.lat.toFixed(6)) + "&lon=" + encodeURIComponent(event.latlng.lng.toFixed(6));
    });
    box.appendChild(button);
    L.popup().setLatLng(event.latlng).setContent(box).openOn(map);
    button.focus();
  });
})();
