"""SMTP: connect, EHLO, STARTTLS or implicit TLS as `delivery` does, login; no mail is sent."""

from __future__ import annotations

import smtplib
import ssl

from serasan.admin.doctor.report import Check
from serasan.admin.doctor.scrub import Scrubber, first_line, reason
from serasan.config.settings import Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_smtp(settings: Settings, scrub: Scrubber, timeout: float) -> Check:
    if not settings.smtp_host:
        also = " (the webhook still gets them)" if settings.webhook_url else ""
        return Check(
            "smtp",
            "warn",
            "SERASAN_SMTP_HOST is not set: alert e-mails wait in the "
            f"outbox (meta.alert_delivery) until it is{also}",
        )
    host, port = settings.smtp_host, settings.smtp_port_or_default
    where = f"SMTP {host}:{port}"
    info = {
        "host": host,
        "port": port,
        "user": settings.smtp_user,
        "tls": "implicit" if port == 465 else "starttls" if settings.starttls else "none",
    }
    tls = ssl.create_default_context()
    try:
        conn: smtplib.SMTP = (
            smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls)
            if port == 465
            else smtplib.SMTP(host, port, timeout=timeout)
        )
    except (OSError, smtplib.SMTPException) as exc:
        return Check(
            "smtp",
            "fail",
            f"cannot connect to {where} ({scrub(reason(exc))}): alert "
            "e-mails wait in the outbox until it answers; check SERASAN_SMTP_HOST and "
            "SERASAN_SMTP_PORT",
            info,
        )
    steps = ["implicit TLS"] if port == 465 else []
    try:
        code, _ = conn.ehlo()
        if code != 250:
            return Check("smtp", "fail", f"{where} answered EHLO with {code}: see its log", info)
        steps.append("EHLO")
        if port != 465 and settings.starttls:
            try:
                conn.starttls(context=tls)
                conn.ehlo()
            except smtplib.SMTPNotSupportedError:
                return Check(
                    "smtp",
                    "fail",
                    f"{where} does not offer STARTTLS: use port 465 "
                    "(implicit TLS), or set SERASAN_SMTP_STARTTLS=false only on a "
                    "trusted network",
                    info,
                )
            except ssl.SSLError as exc:
                return Check(
                    "smtp",
                    "fail",
                    f"TLS with {where} failed ({scrub(first_line(exc))})"
                    f": its certificate must be valid for {host}",
                    info,
                )
            steps.append("STARTTLS")
        if settings.smtp_user:
            try:
                conn.login(settings.smtp_user, settings.smtp_password or "")
            except smtplib.SMTPAuthenticationError as exc:
                said = (
                    exc.smtp_error.decode(errors="replace")
                    if isinstance(exc.smtp_error, bytes)
                    else str(exc.smtp_error)
                )
                return Check(
                    "smtp",
                    "fail",
                    f"{where} refused the login of "
                    f"{settings.smtp_user} ({exc.smtp_code} {scrub(said).strip()}): "
                    "check SERASAN_SMTP_USER and SERASAN_SMTP_PASSWORD",
                    info,
                )
            except smtplib.SMTPNotSupportedError:
                return Check(
                    "smtp",
                    "fail",
                    f"{where} offers no AUTH (before TLS, servers "
                    "often hide it): enable STARTTLS or unset SERASAN_SMTP_USER",
                    info,
                )
            steps.append(f"login as {settings.smtp_user}")
    except (OSError, smtplib.SMTPException) as exc:
        return Check(
            "smtp",
            "fail",
            f"{where} dropped the session ({scrub(reason(exc))}): see its log",
            info,
        )
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            pass
    done = f"{where}: {', '.join(steps)} ok; no mail was sent (from {settings.smtp_from})"
    if settings.smtp_user and info["tls"] == "none" and host not in LOOPBACK:
        return Check(
            "smtp",
            "warn",
            f"{done}, but the password travels in clear: set "
            "SERASAN_SMTP_STARTTLS=true or use port 465",
            info,
        )
    return Check("smtp", "ok", done, info)
