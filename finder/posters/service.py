"""Ward posters as PDF: WeasyPrint draws the poster page the web layer rendered, and fetches nothing.

What officers type reaches the poster only as text Jinja escaped, but the PDF is drawn from HTML, and
an HTML renderer fetches what the page names (images, stylesheets, fonts). So the fetcher here serves
only files the caller lists (our own static files, read from disk): any other URL, a remote one or a
`file:` path, is refused without a request. WeasyPrint and its system libraries (Pango, HarfBuzz) load
on the first poster, so workers that never draw one never pay for them.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag


class RefusedURL(ValueError):
    """A URL the poster may not load: not one of the finder's own files."""


def local_fetcher(files: Mapping[str, Path]) -> Any:
    """A WeasyPrint URL fetcher that answers only `files` (absolute URL -> file on disk)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # here: 480-580 ms, for posters only

    class LocalFiles(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            path = files.get(urldefrag(url).url.split("?", 1)[0])
            if path is None:
                raise RefusedURL("a poster loads only the finder's own static files")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    return LocalFiles()


def write_pdf(html: str, *, base_url: str, files: Mapping[str, Path]) -> bytes:
    """The PDF of a poster page (one A4 page per poster, as static/poster.css lays them out)."""
    from weasyprint import HTML  # here: 480-580 ms, for posters only

    return HTML(string=html, base_url=base_url, url_fetcher=local_fetcher(files)).write_pdf()
