"""Email for staff links (invitations, password resets), through the SMTP server in FINDER_SMTP_URL.

smtp://host:port sends in the clear unless the server offers STARTTLS (then it is used);
smtps://user:pass@host:port uses TLS from the start. Credentials may be %-encoded.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

TIMEOUT = 10.0


class MailError(Exception):
    """The message could not be handed to the SMTP server; the text says why."""


def check_smtp_url(url: str) -> None:
    """Stop the app at start-up on an SMTP URL it could never use."""
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname or not port_ok:
        raise ValueError(f"FINDER_SMTP_URL must look like smtp://host:port or smtps://user:pass@host, not {url!r}")


def send_mail(smtp_url: str, *, sender: str, to: str, subject: str, body: str, html: str | None = None) -> None:
    """Send one plain-text message (with `html` as its alternative); MailError when the server cannot take it."""
    parts = urlsplit(smtp_url)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    secure = parts.scheme == "smtps"
    try:
        client_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
        with client_class(parts.hostname or "", parts.port or (465 if secure else 25), timeout=TIMEOUT) as client:
            if not secure:
                client.ehlo()
                if client.has_extn("starttls"):
                    client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"the mail server at {parts.hostname} did not take the message ({exc})") from exc


@dataclass(frozen=True)
class Mailer:
    """The finder's SMTP server (FINDER_SMTP_URL) and From address (FINDER_MAIL_FROM), checked once."""

    smtp_url: str
    mail_from: str = ""

    def __post_init__(self) -> None:
        check_smtp_url(self.smtp_url)

    def send(self, *, host: str | None, to: str, subject: str, body: str, html: str | None = None) -> None:
        """Send from FINDER_MAIL_FROM, else finder@`host` (the host of the links the message carries)."""
        sender = self.mail_from or f"finder@{host}"
        send_mail(self.smtp_url, sender=sender, to=to, subject=subject, body=body, html=html)
