"""SMTP on loopback for the alert tests: aiosmtpd keeping every message, stoppable to fake an
outage; settings pointing at it; the outbox rows. The `smtp` fixture is in
tests/integration/conftest.py."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import threading
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from serasan.alerts import delivery
from serasan.config.settings import Settings


class Mailbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        if msg["Subject"]:  # a long subject is folded after "Subject:"; clients unfold it so
            msg.replace_header("Subject", str(msg["Subject"]).strip())
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]

    @staticmethod
    def text(msg: EmailMessage) -> str:
        return msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


class SmtpServer:
    """aiosmtpd on a fixed loopback port, which can be stopped and started to fake an outage."""

    def __init__(self, port: int, auth: tuple[str, str] | None = None):
        self.port = port
        self.box = Mailbox()
        self.auth = auth
        self.controller: Controller | None = None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = self.auth and (data.login.decode(), data.password.decode()) == self.auth
        return AuthResult(success=bool(ok), handled=False)

    def start(self) -> SmtpServer:
        kwargs: dict[str, Any] = {}
        if self.auth:
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False}
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


def with_smtp(settings: Settings, port: int, **extra: Any) -> Settings:
    return dataclasses.replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="serasan@muaraenimkab.go.id",
        **extra,
    )


def deliveries(ctx_or_engine: Any) -> list[dict[str, Any]]:
    engine = getattr(ctx_or_engine, "engine", ctx_or_engine)
    dl = delivery._t(engine, "alert_delivery")
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(dl).order_by(dl.c.dedupe_key)).mappings()]
