"""What an editor types, checked the way a person can act on: a message per field, input kept.

Each `check_*` takes the submitted form (a mapping of field name to text, as a browser sends it)
and returns a `Checked`: the clean values ready for the store, and `errors`, a map of field name to
a GOV.UK-style message that says what is wrong and how to put it right. Nothing raises on bad
input. Text is kept exactly as typed (after trimming): it is data, escaped wherever it lands, so
`<script>` in a name is a name. Only what no surface can hold is refused: control characters
(NUL cannot even be stored in PostgreSQL) and, in one-line fields, line breaks.

Phone numbers are parsed with `phonenumbers` (UK rules) and stored in E.164; emails with
`email-validator` (no DNS lookups); team emails must be on the force's own domains; links must
be https. Lengths come from the store's columns, so a value that passes always fits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import phonenumbers

from finder.store import models as m
from finder.teams import dates, schema

# The table each record's columns (and so its lengths) are read from.
MODELS: dict[str, type[m.Base]] = {
    "team": m.Team,
    "route": m.ContactRoute,
    "officer": m.Officer,
    "meeting": m.Meeting,
    "priority": m.Priority,
}

DEFAULT_FORCE_DOMAINS: dict[str, tuple[str, ...]] = {
    "metropolitan": ("met.police.uk",),
    "city-of-london": ("cityoflondon.police.uk",),
}
TEXT_LIMIT = 2000  # for the store's unbounded text columns (a bio, a description): a page, not a book
PHONE_KINDS = ("phone", "mobile", "textphone")
LINK_KINDS = ("web", "online_form", "social")
ROUTE_KIND_LABELS = {
    "email": "email address",
    "phone": "phone number",
    "mobile": "mobile number",
    "textphone": "textphone number",
    "web": "web address",
    "online_form": "online form address",
    "social": "social media address",
}
# Each phone kind's example, from Ofcom's ranges for drama (a London landline; a mobile), so none reaches anyone.
PHONE_EXAMPLES = {"phone": "020 7946 0999", "mobile": "07700 900123", "textphone": "020 7946 0999"}
# The fields a field's check reads besides its own: a route's value is checked as its kind says; a meeting's
# end against its start. A stored value is judged unchanged only when these are unchanged too (only_changed).
DEPENDS_ON: dict[tuple[str, str], tuple[str, ...]] = {("route", "value"): ("kind",), ("meeting", "end"): ("start",)}
STORED_FAILS = "What is saved here no longer passes our check: correct it. {message}"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\r\n\t\u2028\u2029\x85]")
_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")


@dataclass
class Checked:
    """Clean values (only when there are no errors) and a message per field that needs fixing."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Nothing to fix."""
        return not self.errors


def limit(model: type[m.Base], name: str) -> int:
    """The most characters the store's column holds (TEXT_LIMIT for unbounded text)."""
    column = model.__mapper__.attrs[name].columns[0]
    return getattr(column.type, "length", None) or TEXT_LIMIT


def _raw(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


class _Form:
    """Reads one form into a Checked, field by field."""

    def __init__(self, form: Mapping[str, Any], model: type) -> None:
        self.form, self.model = form, model
        self.out = Checked()

    def fail(self, name: str, message: str) -> None:
        self.out.errors.setdefault(name, message)

    def text(self, name: str, label: str, *, required: bool = False, multiline: bool = False) -> str | None:
        """Trimmed text (None when empty), checked for presence, length and unusable characters."""
        value = _raw(self.form, name)
        if not value:
            if required:
                self.fail(name, f"Enter {label}")
            self.out.values[name] = None
            return None
        most = limit(self.model, name)
        if len(value) > most:
            self.fail(name, f"{label[0].upper()}{label[1:]} must be {most} characters or fewer")
        elif _CONTROL.search(value):
            self.fail(name, f"Remove the hidden control characters from {label}")
        elif not multiline and _LINE_BREAK.search(value):
            self.fail(name, f"{label[0].upper()}{label[1:]} must be on one line")
        self.out.values[name] = value.replace("\r\n", "\n") if multiline else value
        return value

    def choice(self, name: str, label: str, options: Sequence[str]) -> str | None:
        value = _raw(self.form, name)
        if value not in options:
            self.fail(name, f"Select {label}")
            return None
        self.out.values[name] = value
        return value

    def number(self, name: str, label: str, default: int = 0) -> int:
        value = _raw(self.form, name)
        if not value:
            self.out.values[name] = default
            return default
        if not value.isdigit() or len(value) > 6:
            self.fail(name, f"{label[0].upper()}{label[1:]} must be a whole number, like 1")
            return default
        self.out.values[name] = int(value)
        return int(value)

    def day(self, name: str, label: str) -> date | None:
        value = self.form.get(name)
        if isinstance(value, date) and not isinstance(value, datetime):
            self.out.values[name] = value
            return value
        text = _raw(self.form, name)
        if not text:
            self.out.values[name] = None
            return None
        try:
            parsed = date.fromisoformat(text)
        except ValueError:
            self.fail(name, f"{label[0].upper()}{label[1:]} must be a real date, like 2026-03-27")
            return None
        self.out.values[name] = parsed
        return parsed

    def when(self, name: str, label: str, *, required: bool = False) -> datetime | None:
        value = self.form.get(name)
        if isinstance(value, datetime):
            parsed: datetime | None = value.replace(tzinfo=None, second=0, microsecond=0)
        else:
            text = _raw(self.form, name)
            if not text:
                if required:
                    self.fail(name, f"Enter {label}, like 2026-03-27 18:30")
                self.out.values[name] = None
                return None
            parsed = None
            for fmt in _DATETIME_FORMATS:
                try:
                    parsed = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            if parsed is None:
                self.fail(name, f"{label[0].upper()}{label[1:]} must be a real date and time, like 2026-03-27 18:30")
                return None
        self.out.values[name] = parsed
        return parsed


# Ofcom's range of mobile numbers for drama (07700 900000 to 900999): libphonenumber refuses it as unallocated,
# but the forms' own example is one (a real-looking mobile that reaches no one), so it must pass.
DRAMA_MOBILES = re.compile(r"\+447700900\d{3}")


def _number(text: str) -> phonenumbers.PhoneNumber | None:
    """A UK (or international) number libphonenumber holds valid, or one of Ofcom's drama mobiles; else None."""
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return number if phonenumbers.is_valid_number(number) or DRAMA_MOBILES.fullmatch(e164) else None


def parse_phone(text: str) -> str | None:
    """A UK phone number as E.164 (+442079460999), or None when it is not a valid number."""
    number = _number(text)
    return None if number is None else phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_kind(value: str) -> str:
    """ "mobile" for a mobile number (libphonenumber's ranges, and Ofcom's drama mobiles), else "phone"."""
    number = _number(value)
    if number is None:
        return "phone"
    mobile = phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
    return "mobile" if mobile or DRAMA_MOBILES.fullmatch(parse_phone(value) or "") else "phone"


def format_phone(value: str) -> str:
    """A stored number as people write it: national format for UK numbers (020 7946 0999),
    international for others, and anything unparseable as it was."""
    number = _number(value)
    if number is None:
        return value
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 44
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def check_email(value: str, domains: Sequence[str] | None) -> tuple[str | None, str | None]:
    """(normalised address, None) or (None, message). `domains` limits where it may be (None: anywhere)."""
    from email_validator import EmailNotValidError, validate_email  # editing only: not loaded at start

    try:
        found = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return None, "Enter an email address in the correct format, like name@met.police.uk"
    domain = found.domain.lower()
    if domains is not None and not any(domain == d or domain.endswith("." + d) for d in domains):
        allowed = " or ".join(f"@{d}" for d in domains) or "the force's own domain"
        return None, f"Enter an email address ending {allowed}"
    return found.normalized, None


def check_https(value: str) -> tuple[str | None, str | None]:
    """(the link, None) or (None, message): only complete https addresses."""
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme.lower() != "https" or not parts.hostname or not port_ok:
        return None, "Enter a full web address starting with https://, like https://www.met.police.uk/"
    if "." not in parts.hostname or any(c.isspace() for c in value):
        return None, "Enter a full web address starting with https://, like https://www.met.police.uk/"
    return value, None


def force_domains_for(force_id: str, domains: Mapping[str, Sequence[str]] | None) -> Sequence[str]:
    """The email domains a force's team addresses may use (none known: no address passes)."""
    return tuple((domains if domains is not None else DEFAULT_FORCE_DOMAINS).get(force_id, ()))


def flag(value: Any) -> bool:
    """A checkbox as a browser sends it (present and "1", "y", "on"…), or a bool from code."""
    return value if isinstance(value, bool) else _raw({"v": value}, "v").lower() in ("1", "y", "yes", "on", "true")


def check(entity: str, form: Mapping[str, Any], *, email_domains: Sequence[str] | None = None) -> Checked:
    """A record's editable fields checked as its schema says (finder.teams.schema): one rule per kind,
    plus a field's own `pattern`. `email_domains` limits where its email addresses may be."""
    f = _Form(form, MODELS[entity])
    described = schema.specs(entity)
    for name in schema.editable(entity):
        s = described[name]
        if s.kind == "choice":
            f.choice(name, s.noun, s.choices)
        elif s.kind == "number":
            f.number(name, s.noun)
        elif s.kind == "date":
            f.day(name, s.noun)
        elif s.kind == "datetime":
            f.when(name, s.noun, required=s.required)
        elif s.kind == "flag":
            f.out.values[name] = flag(form.get(name))
        elif s.kind == "contact":  # a route's value: checked as its kind says
            _contact(f, name, f.out.values.get("kind"), email_domains)
        else:
            value = f.text(name, s.noun, required=s.required, multiline=s.kind == "textarea")
            if value and name not in f.out.errors:
                _value(f, name, s, value, email_domains)
    return f.out


def _value(f: _Form, name: str, s: schema.Spec, value: str, domains: Sequence[str] | None) -> None:
    """The rule of a field's kind (email, phone, url) and its own pattern, on text already read."""
    clean: str | None = f.out.values[name]
    message = None
    if s.kind == "email":
        clean, message = check_email(value, domains)
    elif s.kind == "phone":
        clean = parse_phone(value)
        message = None if clean else "Enter a UK phone number, like 020 7946 0999 or 07700 900123"
    elif s.kind == "url":
        clean, message = check_https(value)
    elif s.pattern and not re.fullmatch(s.pattern[0], value):
        message = s.pattern[1]
    if message:
        f.fail(name, message)
    else:
        f.out.values[name] = clean


def _contact(f: _Form, name: str, kind: str | None, domains: Sequence[str] | None) -> None:
    value = f.text(name, ROUTE_KIND_LABELS.get(kind or "", "the contact detail"), required=True)
    if not value or kind is None or name in f.out.errors:
        return
    if kind == "email":
        clean, message = check_email(value, domains)
    elif kind in PHONE_KINDS:
        clean = parse_phone(value)
        message = None if clean else f"Enter a UK {ROUTE_KIND_LABELS[kind]}, like {PHONE_EXAMPLES[kind]}"
    else:
        clean, message = check_https(value)
    if message:
        f.fail(name, message)
    else:
        f.out.values[name] = clean


def only_changed(entity: str, checked: Checked, form: Mapping[str, Any], stored: Mapping[str, str]) -> Checked:
    """`checked` with the errors of fields left as `stored` (as the form showed them) dropped, and their values
    too, so the save keeps them: a stored value a check has since tightened must not block saving another field."""

    def same(name: str) -> bool:
        return _raw(form, name) == (stored.get(name) or "").strip()

    kept = {
        name: message
        for name, message in checked.errors.items()
        if not (name in stored and same(name) and all(same(d) for d in DEPENDS_ON.get((entity, name), ())))
    }
    values = {k: x for k, x in checked.values.items() if k not in checked.errors or k in kept}
    return Checked(values, kept)


def check_route(form: Mapping[str, Any], *, email_domains: Sequence[str] | None) -> Checked:
    """A contact route: kind, label, value (by kind), opening hours, order."""
    return check("route", form, email_domains=email_domains)


def check_officer(form: Mapping[str, Any], *, email_domains: Sequence[str] | None = None) -> Checked:
    """A team member: name, rank as they give it, role from the fixed list, collar number, short bio, order."""
    return check("officer", form, email_domains=email_domains)


def check_meeting(form: Mapping[str, Any], *, now: datetime, new: bool) -> Checked:
    """A meeting as its schema says, then its dates: the start in the future when new (naive London time),
    the end after the start, both within the dates a meeting may have (finder.teams.dates)."""
    out = check("meeting", form)
    start, end = out.values.get("start"), out.values.get("end")
    allowed = f"{dates.window_words(now)}: from a year ago to two years ahead"
    if start is not None and new and start <= now:
        out.errors.setdefault("start", "The start must be in the future")
    if start is not None and not dates.within(start, now):
        out.errors.setdefault("start", f"The start must be {allowed}")
    if end is not None and not dates.within(end, now):
        out.errors.setdefault("end", f"The end must be {allowed}")
    if start is not None and end is not None and end <= start:
        out.errors.setdefault("end", "The end must be after the start")
    return out


def check_priority(form: Mapping[str, Any]) -> Checked:
    """A local priority: the issue, what the team is doing, their dates, order."""
    return check("priority", form)


def check_team(form: Mapping[str, Any]) -> Checked:
    """The team itself: its name, description and page on the force's site (https)."""
    return check("team", form)
