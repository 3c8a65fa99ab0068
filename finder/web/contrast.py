"""WCAG 2.2 colour contrast, for the accent colour a council chooses for its embedded finder.

Text must reach 4.5:1 against its background (success criterion 1.4.3). A council's colour is
kept for borders and buttons (with black or white text, whichever reads better); for links on
white it is darkened just enough to read, and the builder says so.
"""

from __future__ import annotations

AA_TEXT = 4.5
BLACK, WHITE = "#0b0c0c", "#ffffff"


def _channels(colour: str) -> tuple[int, int, int]:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def luminance(colour: str) -> float:
    """WCAG relative luminance of a #rgb or #rrggbb colour, from 0 (black) to 1 (white)."""
    linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in _channels(colour)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """The WCAG contrast ratio of two colours, from 1 to 21."""
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_on(background: str) -> str:
    """Black or white, whichever has the higher contrast on `background` (always at least 4.5:1)."""
    return BLACK if contrast(BLACK, background) >= contrast(WHITE, background) else WHITE


def readable_on_white(colour: str) -> str:
    """`colour` itself if it reads as text on white, else the lightest darker shade of it that does."""
    if contrast(colour, WHITE) >= AA_TEXT:
        return colour.lower() if len(colour) == 7 else "#" + "".join(c * 2 for c in colour[1:]).lower()
    r, g, b = _channels(colour)
    for step in range(1, 101):
        keep = 1 - step / 100
        shade = f"#{round(r * keep):02x}{round(g * keep):02x}{round(b * keep):02x}"
        if contrast(shade, WHITE) >= AA_TEXT:
            return shade
    return BLACK
