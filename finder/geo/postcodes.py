"""UK postcode rules and a sorted, memory-mapped postcode index.

People type postcodes in every case, spacing and punctuation. `parse` turns what they typed
into one canonical form ("SW1A 1AA") or an outward code ("SE1"), and says clearly when it is
neither. `PostcodeIndex` looks canonical postcodes up in a sorted NumPy array, one at a time
or a whole column at once, without building a Python dict per process.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
INWARD = r"[0-9][A-Z]{2}"
_FULL = re.compile(rf"({OUTWARD})({INWARD})")
_OUTWARD_ONLY = re.compile(OUTWARD)
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
# The letters Royal Mail never uses in the last two places of a postcode.
_BAD_UNIT = re.compile(r"[CIKMOV]")

KEY_DTYPE = "S8"


class PostcodeFormatError(ValueError):
    """What someone typed is not a postcode or an outward code."""


@dataclass(frozen=True)
class ParsedPostcode:
    """A canonical postcode ("SW1A 1AA") or outward code ("SE1")."""

    kind: Literal["postcode", "outcode"]
    value: str
    outcode: str
    corrected: bool = False  # True when a typed letter O was read as a zero


def parse(text: str | None) -> ParsedPostcode:
    """Read a typed postcode or outward code; raise PostcodeFormatError when it is neither.

    Case, spaces and punctuation are ignored. A letter O where the inward code's digit must
    stand ("SW1A OAA") is read as a zero, because it can be nothing else.
    """
    compact = _NOT_ALNUM.sub("", (text or "").upper())
    if not compact:
        raise PostcodeFormatError("Enter a postcode, like SW1A 2AA")
    if len(compact) > 7:
        raise PostcodeFormatError("That is too long for a postcode. Enter a postcode, like SW1A 2AA")
    corrected = False
    if len(compact) >= 5 and compact[-3] == "O" and _FULL.fullmatch(compact[:-3] + "0" + compact[-2:]):
        compact = compact[:-3] + "0" + compact[-2:]
        corrected = True
    full = _FULL.fullmatch(compact)
    if full:
        outward, inward = full.groups()
        if _BAD_UNIT.search(inward[1:]):
            raise PostcodeFormatError(
                f"{outward} {inward} is not a real postcode. Check it and try again, like SW1A 2AA"
            )
        return ParsedPostcode("postcode", f"{outward} {inward}", outward, corrected)
    if _OUTWARD_ONLY.fullmatch(compact):
        return ParsedPostcode("outcode", compact, compact)
    raise PostcodeFormatError("Enter a full postcode, like SW1A 2AA")


def normalise(text: str | None) -> str:
    """Canonical form of a full postcode ("sw1a1aa" -> "SW1A 1AA"); errors for anything else."""
    parsed = parse(text)
    if parsed.kind != "postcode":
        raise PostcodeFormatError("Enter a full postcode, like SW1A 2AA")
    return parsed.value


class PostcodeIndex:
    """Rows of a structured array sorted by its `postcode` field, found by binary search."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows
        self.keys = rows["postcode"]

    def __len__(self) -> int:
        return len(self.rows)

    def find(self, postcode: str) -> int | None:
        """Row number of a canonical postcode, or None."""
        key = postcode.encode("ascii")
        i = int(np.searchsorted(self.keys, key))
        if i < len(self.keys) and self.keys[i] == key:
            return i
        return None

    def find_many(self, postcodes: Sequence[str] | np.ndarray) -> np.ndarray:
        """Row numbers for many canonical postcodes at once; -1 where absent."""
        keys = np.asarray(postcodes, dtype=KEY_DTYPE)
        i = np.searchsorted(self.keys, keys)
        i_clipped = np.minimum(i, len(self.keys) - 1)
        found = self.keys[i_clipped] == keys
        return np.where(found, i_clipped, -1)
