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
})();
