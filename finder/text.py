"""Text from other people's systems, made safe to show: HTML becomes plain text.

police.uk bios, descriptions, priorities and event text are HTML typed into a CMS. We keep
paragraphs and line breaks and nothing else: nh3 (the Rust `ammonia` sanitiser) drops every
tag, and drops <script> and <style> with their contents. The result is plain text, which every
surface escapes for its own format (Jinja autoescaping, JSON, vCard/ICS escaping, textContent
in map popups), so nothing from a source is ever interpreted as markup.
"""

from __future__ import annotations

import html
import re

import nh3

_BREAKS = re.compile(r"(?i)<\s*br\s*/?\s*>|<\s*/\s*(p|div|li|h[1-6]|tr|blockquote|ul|ol)\s*>")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain_text(value: object, *, limit: int | None = None) -> str | None:
    """HTML (or text) as plain text with paragraphs kept; None for nothing."""
    if value is None:
        return None
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    if "<" in text or "&" in text:  # markup or entities: let the sanitiser read it
        text = _BREAKS.sub("\n", text)
        text = html.unescape(nh3.clean(text, tags=set(), strip_comments=True))
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = _BLANKS.sub("\n\n", "\n".join(lines)).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None


def one_line(value: object, *, limit: int | None = 200) -> str | None:
    """A name, title or label: plain text on one line."""
    text = plain_text(value)
    if text is None:
        return None
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None
