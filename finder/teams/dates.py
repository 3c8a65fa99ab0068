"""The dates a meeting may have: from a year ago to two years ahead of now (naive London time, as stored).

Python's datetimes end at 9999-12-31 and begin at 0001-01-01, so adding an hour to a meeting dated
at either edge raised, and every page showing that ward failed. Dates are bounded where they come
in (the editors' form, the police.uk sync); one stored out of range all the same is shown as
"date unclear" and flagged for the ward's editor, and `over_at` never raises.
"""

from __future__ import annotations

from datetime import datetime, timedelta

PAST = timedelta(days=365)  # a meeting entered late, to keep the record
AHEAD = timedelta(days=2 * 365)  # ward panels are planned a year or so ahead
MEETING_LENGTH = timedelta(hours=1)  # a meeting without an end is upcoming until an hour after it starts


def window(now: datetime) -> tuple[datetime, datetime]:
    """The earliest and latest start a meeting may have, as of `now` (naive London time)."""
    return now - PAST, now + AHEAD


def within(when: datetime, now: datetime) -> bool:
    """`when` is inside the window as of `now`."""
    earliest, latest = window(now)
    return earliest <= when <= latest


def clear(start: datetime, end: datetime | None, now: datetime) -> bool:
    """A stored meeting's start, and its end if any, are both inside the window: its date can be shown."""
    return within(start, now) and (end is None or within(end, now))


def window_words(now: datetime) -> str:
    """The window in words, for messages: "between 6 December 2025 and 5 December 2028"."""
    earliest, latest = window(now)
    return f"between {earliest:%-d %B %Y} and {latest:%-d %B %Y}"


def over_at(start: datetime, end: datetime | None) -> datetime:
    """When a meeting is over: its end, or MEETING_LENGTH after its start (the last datetime, never an error)."""
    return end or min(start, datetime.max - MEETING_LENGTH) + MEETING_LENGTH
