"""Optional remote geocoder: postcodes.io, for postcodes newer than our Code-Point release.

Off unless a base URL is configured. It is a fallback only: every failure (timeout, refused
connection, bad JSON, 5xx) means "unknown", logged, and never breaks a page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GeocodedPostcode:
    """What the remote service said about a postcode."""

    postcode: str
    lat: float
    lon: float
    district: str | None


class PostcodesIO:
    """A client for the postcodes.io API (https://api.postcodes.io) or a server shaped like it."""

    def __init__(self, base_url: str, timeout: float = 2.0, session: requests.Session | None = None) -> None:
        # Imported only when a geocoder is configured (before the workers fork, so they share it): the
        # default finder never calls out, and requests cost its start 40-50 ms and 6 MB.
        import requests

        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self._failures = (requests.RequestException, ValueError, TypeError, AttributeError)
        self.session.headers.setdefault("User-Agent", "finder (London neighbourhood policing finder)")

    def lookup(self, postcode: str) -> GeocodedPostcode | None:
        """Coordinates of a live postcode, or None when unknown or when the service fails."""
        url = f"{self.base_url}/postcodes/{quote(postcode)}"
        try:
            response = self.session.get(url, timeout=self.timeout)
            if response.status_code == 404:
                return None
            response.raise_for_status()
            result = response.json().get("result") or {}
            lat, lon = result.get("latitude"), result.get("longitude")
            if lat is None or lon is None:
                return None
            return GeocodedPostcode(
                result.get("postcode") or postcode, float(lat), float(lon), result.get("admin_district")
            )
        except self._failures as exc:
            # The postcode, and the URL that requests puts in its messages, stay out of the log.
            log.warning("remote geocoder failed: %s", type(exc).__name__)
            return None
