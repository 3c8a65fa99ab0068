"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it is sent."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """What the server received; `url` is the FINDER_SMTP_URL that reaches it."""

    url: str = ""
    messages: list[EmailMessage] = field(default_factory=list)
    delay: float = 0.0  # seconds before each message is accepted: a slow mail server

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(self.delay)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages, once `count` have arrived (mail sent in the background takes a moment)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(delay: float = 0.0) -> Iterator[Inbox]:
    """Run the server for the block; its messages collect in the Inbox."""
    inbox = Inbox(delay=delay)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}"
    try:
        yield inbox
    finally:
        controller.stop()
