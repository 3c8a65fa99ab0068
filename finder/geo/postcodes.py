"""UK postcode rules and a sorted, memory-mapped postcode index.

People type postcodes in every case, spacing and punctuation, with a letter I, L or O where a
digit must stand, or inside a pasted address. `parse` turns what they typed into one canonical
form ("SW1A 1AA") or an outward code ("SE1"), says when it read something other than what was
typed, and says clearly when it is neither. `PostcodeIndex` looks canonical postcodes up in a
sorted NumPy array, one at a time or a whole column at once, without building a Python dict per process.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from finder.i18n import tr  # messages shown in the resident's language; English everywhere else

OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
INWARD = r"[0-9][A-Z]{2}"
_FULL = re.compile(rf"({OUTWARD})({INWARD})")
_OUTWARD_ONLY = re.compile(OUTWARD)
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
# The letters Royal Mail never uses in the last two places of a postcode.
_BAD_UNIT = re.compile(r"[CIKMOV]")
# Where a digit must stand, these letters can only be that digit mistyped.
_AS_DIGIT = {"O": "0", "I": "1", "L": "1"}
# The digit places of each shape of outward code, by its length (A = letter, 9 = digit).
_OUTWARD_DIGITS = {2: ((1,),), 3: ((1, 2), (2,), (1,)), 4: ((2, 3), (2,))}
# A postcode inside longer text, like a pasted address ("10 Downing Street, SW1A 2AA").
_IN_TEXT = re.compile(rf"(?<![A-Z0-9])({OUTWARD}) ?({INWARD})(?![A-Z0-9])")
# The NHS's pseudo-postcodes (ZZ99 3VZ, no fixed abode) break the unit letter rule; they are read so that
# the lookup can say what they are.
PSEUDO_AREA = "ZZ"
# Girobank's postcode, the one that breaks the pattern (non-geographic).
GIROBANK = "GIR 0AA"

KEY_DTYPE = "S8"


# The longest text read: a whole address line pasted from a letter fits in 200 characters; more is not one.
LONGEST_TEXT = 200


class PostcodeFormatError(ValueError):
    """What someone typed is not a postcode or an outward code. `found`: the postcodes in a longer text;
    `in_text`: the text held more than postcodes (a pasted address), which is not to be kept or shown again."""

    def __init__(self, message: str, *, found: tuple[str, ...] = (), in_text: bool = False) -> None:
        super().__init__(message)
        self.found = found
        self.in_text = in_text


@dataclass(frozen=True)
class ParsedPostcode:
    """A canonical postcode ("SW1A 1AA") or outward code ("SE1")."""

    kind: Literal["postcode", "outcode"]
    value: str
    outcode: str
    corrected: bool = False  # True when what was typed was read as something else (a letter as a digit, an address)
    in_text: bool = False  # True when the postcode was found in longer text (a pasted address)


def parse(text: str | None) -> ParsedPostcode:
    """Read a typed postcode or outward code; raise PostcodeFormatError when it is neither.

    Case, spaces and punctuation are ignored. A letter O, I or L where a digit must stand
    ("SWIA OAA") is read as that digit, because it can be nothing else. Text too long to be a
    postcode is searched for one postcode (a pasted address); `corrected` says so either way.
    """
    upper = (text or "").upper()
    if len(upper) > LONGEST_TEXT:
        raise PostcodeFormatError(
            tr(
                "That is longer than an address (%(longest)s characters at most). Enter just the postcode, "
                "like SW1A 2AA",
                longest=LONGEST_TEXT,
            ),
            in_text=True,
        )
    compact = _NOT_ALNUM.sub("", upper)
    if not compact:
        raise PostcodeFormatError(tr("Enter a postcode, like SW1A 2AA"))
    if len(compact) > 7:
        found = tuple(sorted({f"{outward} {inward}" for outward, inward in _IN_TEXT.findall(upper)}))
        in_text = bool(_NOT_ALNUM.sub("", _IN_TEXT.sub(" ", upper)))  # more than the postcodes themselves
        if len(found) > 1:
            raise PostcodeFormatError(
                tr(
                    "That has more than one postcode in it (%(found)s). Enter just one, like SW1A 2AA",
                    found=", ".join(found),
                ),
                found=found,
                in_text=in_text,
            )
        if not found:
            raise PostcodeFormatError(
                tr("We could not find a postcode in that. Enter a postcode, like SW1A 2AA"), in_text=in_text
            )
        return replace(_parse_compact(found[0].replace(" ", "")), corrected=True, in_text=in_text)
    return _parse_compact(compact)


def _parse_compact(compact: str) -> ParsedPostcode:
    """Parse capitals and digits only, mending letters typed for digits when nothing else fits."""
    if compact == GIROBANK.replace(" ", ""):
        return ParsedPostcode("postcode", GIROBANK, "GIR")
    corrected = False
    if not (_FULL.fullmatch(compact) or _OUTWARD_ONLY.fullmatch(compact)):
        mended = _as_digits(compact)
        if mended is not None:
            compact, corrected = mended, True
    full = _FULL.fullmatch(compact)
    if full:
        outward, inward = full.groups()
        if _BAD_UNIT.search(inward[1:]) and not outward.startswith(PSEUDO_AREA):
            raise PostcodeFormatError(
                tr(
                    "%(postcode)s is not a real postcode. Check it and try again, like SW1A 2AA",
                    postcode=f"{outward} {inward}",
                )
            )
        return ParsedPostcode("postcode", f"{outward} {inward}", outward, corrected)
    if _OUTWARD_ONLY.fullmatch(compact):
        return ParsedPostcode("outcode", compact, compact, corrected)
    raise PostcodeFormatError(tr("Enter a full postcode, like SW1A 2AA"))


def _as_digits(compact: str) -> str | None:
    """The postcode or outward code meant, reading O as 0 and I or L as 1 where only a digit fits."""

    def mend(chars: str, places: tuple[int, ...]) -> str | None:
        out = list(chars)
        for i in places:
            out[i] = _AS_DIGIT.get(out[i], out[i])
        return "".join(out)

    for outward_len, inward in ((len(compact) - 3, compact[-3:]), (len(compact), "")):
        outward = compact[:outward_len]
        inward_mended = mend(inward, (0,)) if inward else ""
        for places in _OUTWARD_DIGITS.get(len(outward), ()):
            candidate = mend(outward, places) + inward_mended  # type: ignore[operator]
            if (_FULL if inward else _OUTWARD_ONLY).fullmatch(candidate):
                return candidate
    return None


def normalise(text: str | None) -> str:
    """Canonical form of a full postcode ("sw1a1aa" -> "SW1A 1AA"); errors for anything else."""
    parsed = parse(text)
    if parsed.kind != "postcode":
        raise PostcodeFormatError(tr("Enter a full postcode, like SW1A 2AA"))
    return parsed.value


class PostcodeIndex:
    """Rows of a structured array sorted by its `postcode` field, found by binary search."""

    def __init__(self, rows: np.ndarray) -> None:
        # Plain arrays over the same (mapped) memory: numpy's memmap runs Python code on every index.
        self.rows = rows.view(np.ndarray)
        self.keys = self.rows["postcode"]

    def __len__(self) -> int:
        return len(self.rows)

    def find(self, postcode: str) -> int | None:
        """Row number of a canonical postcode, or None."""
        key = postcode.encode("ascii")
        i = int(self.keys.searchsorted(key))
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
