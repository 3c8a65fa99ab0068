/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";

  // The page gives /locate's address (with the page's ?lang=) and the words, in the page's language.
  function locate(base, lat, lon) {
    window.location.href = base + (base.indexOf("?") < 0 ? "?" : "&") + "lat=" + encodeURIComponent(lat.toFixed(6)) +
      "&lon=" + encodeURIComponent(lon.toFixed(6));
  }

  // "Use my location": shown only where the browser can do it.
  document.querySelectorAll("[data-use-location]").forEach(function (button) {
    if (!("geolocation" in navigator)) return;
    var wrapper = button.closest(".use-location");
    var status = wrapper.querySelector(".location-status");
    wrapper.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.getAttribute("data-finding");
      navigator.geolocation.getCurrentPosition(
        function (position) {
          locate(button.getAttribute("data-locate"), position.coords.latitude, position.coords.longitude);
        },
        function () { status.textContent = button.getAttribute("data-failed"); },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
      );
    });
  });

  // A result's address bar shows the ward's own address, not the postcode searched for.
  var address = document.querySelector("[data-address]");
  if (address && window.history && history.replaceState) {
    history.replaceState(null, "", address.getAttribute("data-address"));
  }

  // Put focus on the error summary so screen readers announce it.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
})();
