"""Error texts as the report shows them: scrubbed of every secret, cut to a few words."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from serasan.config.settings import Settings


class Scrubber:
    """Removes every secret of the settings from a text."""

    def __init__(self, settings: Settings):
        url = make_url(settings.warehouse_url)
        found = [
            settings.s3_secret_key,
            settings.smtp_password,
            settings.ckan_token,
            settings.webhook_token,
            settings.pii_key,
            url.password,
        ]
        self.secrets = sorted({str(s) for s in found if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()


def reason(exc: BaseException) -> str:
    """The innermost cause of a connection error, in a few words."""
    inner: BaseException = exc
    while True:
        nxt = getattr(inner, "reason", None) or inner.__cause__ or inner.__context__
        if not isinstance(nxt, BaseException) or nxt is inner:
            break
        inner = nxt
    text = first_line(inner)
    for known in (
        "Connection refused",
        "timed out",
        "Name or service not known",
        "No route to host",
        "certificate verify failed",
    ):
        if known.lower() in text.lower():
            return known.lower()
    return f"{type(inner).__name__}: {text}"[:300]
