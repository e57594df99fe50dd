"""Sending alerts reliably: an outbox in the warehouse, drained by e-mail (SMTP) and a JSON webhook.

Why an outbox: an SMTP or webhook outage must delay alerts, never lose them, and never fail a data
load. So nothing here runs inside a load. `pipeline.load()` writes `meta.alert` (status `pending`)
in the load's own transaction; freshness, digests and engineers' alerts are written the same way
by `enqueue()`. A drain then

1. plans: one `meta.alert_delivery` row per pending alert, channel and recipient, keyed by
   `dedupe_key = kind|alert_id|channel|recipient`, inserted only if absent. The alert id of a
   quality alert is its load id `<dataset>-<sha256[:16]>`, so re-running a DAG or re-ingesting the
   same file finds its rows already there and sends nothing again;
2. claims each due row (compare-and-set on `attempts`, so two drains never send the same row),
   sends it, and records `sent`, or the error with the next attempt after an exponential backoff.

Time: `next_attempt_at` and `sent_at` are wall-clock UTC, because they are about mail servers, not
about data (freshness uses the run's logical date). `next_attempt_at` is always
`enqueued + backoff_total(attempts)`, so a row's age is known without a `created_at` column.

Channels are on when configured: e-mail with `SERASAN_SMTP_HOST`, the webhook with
`SERASAN_WEBHOOK_URL`. Secrets never reach a log, an error text or the outbox.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from sqlalchemy import Connection, Engine, Insert, and_, func, or_, select, update

from serasan.alerts.compose import compose_outbox_backlog, compose_task_failure
from serasan.common.enums import AlertStatus
from serasan.config.settings import Settings
from serasan.warehouse.tables import table

log = logging.getLogger(__name__)

KINDS = ("quality", "late", "digest", "engineer", "privacy")
CHANNELS = ("email", "webhook")
BACKOFF_BASE = dt.timedelta(minutes=5)  # first retry; doubles on each failure ...
BACKOFF_CAP = dt.timedelta(hours=6)  # ... up to this step, and retries go on for ever
SMTP_TIMEOUT = 20.0
WEBHOOK_TIMEOUT = 15.0
MAX_ID = 140  # meta.alert.alert_id
MAX_ERROR = 500


class DeliveryError(Exception):
    """A message could not be handed over; `permanent` when retrying cannot help."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class OutboxAlert:
    """An alert as the outbox stores it: the message plus what it is about and who gets it."""

    alert_id: str
    kind: str
    recipients: list[str]
    subject: str
    body: str
    dataset_id: str = "-"
    regency: str = "-"
    opd: str = "-"
    load_id: str = "-"
    lake_key: str = "-"


# ------------------------------------------------------------------------ keys and time


def alert_id(kind: str, *parts: str) -> str:
    """Ids of non-quality alerts: `kind:part:part`; a colon never occurs in a load id."""
    value = ":".join([kind, *parts])
    if len(value) > MAX_ID:
        value = f"{value[: MAX_ID - 17]}~{hashlib.sha256(value.encode()).hexdigest()[:16]}"
    return value


def kind_of(alert_id_: str) -> str:
    """Quality alerts carry their load id; the others start with their kind."""
    head = alert_id_.split(":", 1)[0]
    return head if ":" in alert_id_ and head in KINDS else "quality"


def dedupe_key(kind: str, alert_id_: str, channel: str, recipient: str) -> str:
    """The same alert for the same recipient on the same channel is sent once, ever."""
    return "|".join([kind, alert_id_, channel, recipient.strip().lower()])


def backoff_total(attempts: int) -> dt.timedelta:
    """Delay from enqueueing to the attempt after `attempts` failures: 0, 5, 15, 35, 75 min..."""
    total = dt.timedelta()
    for n in range(attempts):
        total += min(BACKOFF_BASE * 2**n, BACKOFF_CAP)
    return total


def stamp(moment: dt.datetime) -> str:
    """UTC, fixed width: the strings compare in time order on every backend."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def enqueued_at(next_attempt_at: str, attempts: int) -> dt.datetime:
    return parse_stamp(next_attempt_at) - backoff_total(attempts)


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)


def channels(settings: Settings) -> list[str]:
    """The configured channels, in sending order."""
    return [c for c, on in (("email", settings.smtp_host), ("webhook", settings.webhook_url)) if on]


def engineers(settings: Settings) -> list[str]:
    return [a.strip() for a in (settings.engineer_email or "").split(",") if a.strip()]


def scrub(text: str, settings: Settings) -> str:
    """An error text without any secret we know of, short enough for a log line."""
    for secret in (settings.smtp_password, settings.webhook_token, settings.s3_secret_key):
        if secret:
            text = text.replace(secret, "***")
    return text[:MAX_ERROR]


# ------------------------------------------------------------------------ outbox


def _t(conn: Connection | Engine, name: str) -> Any:
    return table("meta", name, conn.dialect.name)


def _insert_ignore(conn: Connection, tbl: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt: Insert
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(tbl).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(tbl).on_conflict_do_nothing()
    conn.execute(stmt, rows)


def enqueue(
    engine: Engine, settings: Settings, alert: OutboxAlert, now: dt.datetime | None = None
) -> None:
    """Write an alert and its deliveries; the first writer of an alert id wins, later ones no-op."""
    with engine.begin() as conn:
        _insert_ignore(
            conn,
            _t(conn, "alert"),
            [
                {
                    "alert_id": alert.alert_id,
                    "load_id": alert.load_id,
                    "dataset_id": alert.dataset_id,
                    "regency": alert.regency,
                    "opd": alert.opd,
                    "recipients": ",".join(alert.recipients),
                    "subject": alert.subject,
                    "body": alert.body,
                    "lake_key": alert.lake_key,
                    "status": AlertStatus.PENDING,
                }
            ],
        )
        plan(conn, settings, alert_ids=[alert.alert_id], now=now)


def plan(
    conn: Connection,
    settings: Settings,
    *,
    dataset_id: str | None = None,
    alert_ids: Sequence[str] | None = None,
    now: dt.datetime | None = None,
) -> list[str]:
    """One delivery row per pending alert, channel and recipient, unless it exists already.

    Returns the alert ids looked at. A channel configured later gets its rows on the next
    drain; a channel's rows that exist (sent or not) are never made again.
    """
    al, dl = _t(conn, "alert"), _t(conn, "alert_delivery")
    q = select(al.c.alert_id, al.c.recipients).where(al.c.status == AlertStatus.PENDING)
    if dataset_id is not None:
        q = q.where(al.c.dataset_id == dataset_id)
    if alert_ids is not None:
        q = q.where(al.c.alert_id.in_(list(alert_ids)))
    alerts = conn.execute(q).all()
    chans = channels(settings)
    if alerts and not chans:
        log.warning(
            "%d alerts are waiting but no channel is configured "
            "(SERASAN_SMTP_HOST or SERASAN_WEBHOOK_URL)",
            len(alerts),
        )
    due = stamp(_now(now))
    rows = {}
    for aid, recipients in alerts:
        kind = kind_of(aid)
        for rcpt in dict.fromkeys(r.strip() for r in recipients.split(",") if r.strip()):
            for ch in chans:
                key = dedupe_key(kind, aid, ch, rcpt)
                rows[key] = {
                    "dedupe_key": key,
                    "alert_id": aid,
                    "kind": kind,
                    "channel": ch,
                    "recipient": rcpt,
                    "status": AlertStatus.PENDING,
                    "attempts": 0,
                    "last_error": None,
                    "next_attempt_at": due,
                    "sent_at": None,
                }
    if rows:
        existing = set(
            conn.execute(select(dl.c.dedupe_key).where(dl.c.dedupe_key.in_(list(rows)))).scalars()
        )
        _insert_ignore(conn, dl, [r for k, r in rows.items() if k not in existing])
    return [a for a, _ in alerts]


# ------------------------------------------------------------------------ channels


def _message(
    settings: Settings,
    recipient: str,
    subject: str,
    body: str,
    key: str | None = None,
    alert_id_: str | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    if key:  # the same delivery always has the same Message-ID: mail clients can dedupe too
        msg["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@serasan>"
    if alert_id_:
        msg["X-Serasan-Alert"] = alert_id_
    msg.set_content(body)
    return msg


class SmtpSession:
    """One SMTP connection per drain, opened on first use; a failed connect fails fast after."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.conn: smtplib.SMTP | None = None
        self.broken: str | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.smtp_host
        port = s.smtp_port_or_default
        tls = ssl.create_default_context()
        if port == 465:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, port, timeout=SMTP_TIMEOUT, context=tls
            )
        else:
            conn = smtplib.SMTP(s.smtp_host, port, timeout=SMTP_TIMEOUT)
            if s.starttls:
                conn.starttls(context=tls)
        if s.smtp_user:
            conn.login(s.smtp_user, s.smtp_password or "")
        return conn

    def send(self, msg: EmailMessage) -> None:
        if self.broken:
            raise DeliveryError(self.broken)
        if self.conn is None:
            try:
                self.conn = self._connect()
            except (OSError, smtplib.SMTPException) as exc:
                self.broken = scrub(
                    f"SMTP {self.settings.smtp_host}:"
                    f"{self.settings.smtp_port_or_default}: "
                    f"{type(exc).__name__}: {exc}",
                    self.settings,
                )
                raise DeliveryError(self.broken) from None
        try:
            self.conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                scrub(f"SMTP refused {msg['To']}: {exc.recipients}", self.settings),
                permanent=all(c >= 500 for c in codes),
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise DeliveryError(
                scrub(f"SMTP: {type(exc).__name__}: {exc}", self.settings)
            ) from None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
        self.conn = None


class WebhookSession:
    """POSTs JSON to the webhook, with the bearer token and an Idempotency-Key per delivery."""

    def __init__(self, settings: Settings):
        import httpx

        self.settings = settings
        headers = {"User-Agent": "serasan-alerts"}
        if settings.webhook_token:
            headers["Authorization"] = f"Bearer {settings.webhook_token}"
        self.client = httpx.Client(timeout=WEBHOOK_TIMEOUT, headers=headers)

    def send(self, payload: dict[str, Any], key: str) -> None:
        import httpx

        assert self.settings.webhook_url
        try:
            resp = self.client.post(
                self.settings.webhook_url, json=payload, headers={"Idempotency-Key": key}
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(
                scrub(f"webhook: {type(exc).__name__}: {exc}", self.settings)
            ) from None
        if not 200 <= resp.status_code < 300:
            raise DeliveryError(
                scrub(f"webhook: HTTP {resp.status_code}: {resp.text[:200]}", self.settings)
            )

    def close(self) -> None:
        self.client.close()


def send_email(settings: Settings, recipients: Iterable[str], subject: str, body: str) -> None:
    """Send one e-mail now, outside the outbox (the Airflow notifier's direct path)."""
    session = SmtpSession(settings)
    try:
        for rcpt in recipients:
            session.send(_message(settings, rcpt, subject, body))
    finally:
        session.close()


def webhook_payload(
    row: Mapping[str, Any],
    phones: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What the webhook receives: enough for a Telegram or WhatsApp gateway to route and show."""
    phone = (phones or {}).get(row["recipient"])
    return {
        "id": row["dedupe_key"],
        "alert_id": row["alert_id"],
        "kind": row["kind"],
        "recipient": row["recipient"],
        "phone": phone,
        "subject": row["subject"],
        "body": row["body"],
        "dataset": None if row["dataset_id"] == "-" else row["dataset_id"],
        "regency": None if row["regency"] == "-" else row["regency"],
        "opd": None if row["opd"] == "-" else row["opd"],
        "lake_key": None if row["lake_key"] == "-" else row["lake_key"],
    }


# ------------------------------------------------------------------------ drain


def drain(
    engine: Engine,
    settings: Settings,
    *,
    dataset_id: str | None = None,
    alert_ids: Sequence[str] | None = None,
    now: dt.datetime | None = None,
    limit: int = 1000,
    phones: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Plan, then send every due delivery (of one dataset, some alerts, or all); never raises
    for a delivery error: the error is recorded on the row and retried later."""
    now = _now(now)
    al, dl = _t(engine, "alert"), _t(engine, "alert_delivery")
    with engine.begin() as conn:
        touched = set(plan(conn, settings, dataset_id=dataset_id, alert_ids=alert_ids, now=now))
    q = (
        select(dl, al.c.subject, al.c.body, al.c.dataset_id, al.c.regency, al.c.opd, al.c.lake_key)
        .join(al, al.c.alert_id == dl.c.alert_id)
        .where(
            dl.c.status == AlertStatus.PENDING,
            or_(dl.c.next_attempt_at.is_(None), dl.c.next_attempt_at <= stamp(now)),
            dl.c.channel.in_(channels(settings)),
        )
        .order_by(dl.c.next_attempt_at, dl.c.dedupe_key)
        .limit(limit)
    )
    if dataset_id is not None:
        q = q.where(al.c.dataset_id == dataset_id)
    if alert_ids is not None:
        q = q.where(dl.c.alert_id.in_(list(alert_ids)))
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    result: dict[str, Any] = {"sent": 0, "retrying": 0, "failed": 0, "errors": []}
    sessions: dict[str, Any] = {}
    try:
        for row in rows:
            if not _claim(engine, dl, row, now):
                continue  # another drain has it
            touched.add(row["alert_id"])
            try:
                _send(settings, sessions, row, phones)
            except DeliveryError as exc:
                status = AlertStatus.FAILED if exc.permanent else AlertStatus.PENDING
                with engine.begin() as conn:
                    conn.execute(
                        update(dl)
                        .where(dl.c.dedupe_key == row["dedupe_key"])
                        .values(status=status, last_error=str(exc))
                    )
                result["failed" if exc.permanent else "retrying"] += 1
                if str(exc) not in result["errors"]:
                    result["errors"].append(str(exc))
                log.warning(
                    "%s alert %s to %s via %s not sent (attempt %d): %s",
                    row["kind"],
                    row["alert_id"],
                    row["recipient"],
                    row["channel"],
                    row["attempts"] + 1,
                    exc,
                )
            else:
                with engine.begin() as conn:
                    conn.execute(
                        update(dl)
                        .where(dl.c.dedupe_key == row["dedupe_key"])
                        .values(status=AlertStatus.SENT, sent_at=stamp(_now(None)), last_error=None)
                    )
                result["sent"] += 1
                log.info(
                    "%s alert %s sent to %s via %s",
                    row["kind"],
                    row["alert_id"],
                    row["recipient"],
                    row["channel"],
                )
    finally:
        for session in sessions.values():
            session.close()
    _settle(engine, touched)
    return result


def _claim(engine: Engine, dl: Any, row: dict[str, Any], now: dt.datetime) -> bool:
    """Take the row (attempts + 1) and schedule its next attempt before sending anything, so a
    crash mid-send retries later and a concurrent drain skips it."""
    attempts = row["attempts"]
    start = enqueued_at(row["next_attempt_at"], attempts) if row["next_attempt_at"] else now
    with engine.begin() as conn:
        res = conn.execute(
            update(dl)
            .where(
                and_(
                    dl.c.dedupe_key == row["dedupe_key"],
                    dl.c.status == AlertStatus.PENDING,
                    dl.c.attempts == attempts,
                )
            )
            .values(
                attempts=attempts + 1, next_attempt_at=stamp(start + backoff_total(attempts + 1))
            )
        )
    return res.rowcount == 1


def _send(
    settings: Settings,
    sessions: dict[str, Any],
    row: dict[str, Any],
    phones: Mapping[str, str] | None,
) -> None:
    if row["channel"] == "email":
        session = sessions.setdefault("email", SmtpSession(settings))
        session.send(
            _message(
                settings,
                row["recipient"],
                row["subject"],
                row["body"],
                row["dedupe_key"],
                row["alert_id"],
            )
        )
    elif row["channel"] == "webhook":
        session = sessions.setdefault("webhook", WebhookSession(settings))
        session.send(webhook_payload(row, phones), row["dedupe_key"])
    else:
        raise DeliveryError(f"unknown channel {row['channel']!r}", permanent=True)


def _settle(engine: Engine, alert_ids: set[str]) -> None:
    """An alert is `sent` when every delivery is, `failed` when one failed for good."""
    if not alert_ids:
        return
    al, dl = _t(engine, "alert"), _t(engine, "alert_delivery")
    with engine.begin() as conn:
        counts: dict[str, dict[str, int]] = {}
        for aid, status, n in conn.execute(
            select(dl.c.alert_id, dl.c.status, func.count())
            .where(dl.c.alert_id.in_(sorted(alert_ids)))
            .group_by(dl.c.alert_id, dl.c.status)
        ):
            counts.setdefault(aid, {})[status] = n
        for aid, c in counts.items():
            status = (
                AlertStatus.PENDING
                if c.get(AlertStatus.PENDING)
                else AlertStatus.FAILED
                if c.get(AlertStatus.FAILED)
                else AlertStatus.SENT
            )
            conn.execute(
                update(al).where(al.c.alert_id == aid, al.c.status != status).values(status=status)
            )


# ------------------------------------------------------------------------ engineers


def backlog(
    engine: Engine,
    settings: Settings,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Deliveries pending for longer than `outbox_max_age_hours`, and those that failed for good.

    Outbox reports themselves are left out, so a long outage does not report its own reports.
    """
    now = _now(now)
    dl = _t(engine, "alert_delivery")
    limit = dt.timedelta(hours=settings.outbox_max_age_hours)
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(dl)
                .where(
                    dl.c.status.in_((AlertStatus.PENDING, AlertStatus.FAILED)),
                    ~dl.c.alert_id.like("engineer:outbox:%"),
                )
                .order_by(dl.c.next_attempt_at)
            )
            .mappings()
            .all()
        )
    stuck = []
    for r in rows:
        age = (
            now - enqueued_at(r["next_attempt_at"], r["attempts"])
            if r["next_attempt_at"]
            else limit
        )
        if r["status"] == AlertStatus.FAILED or age >= limit:
            stuck.append(
                {
                    "kind": r["kind"],
                    "alert_id": r["alert_id"],
                    "channel": r["channel"],
                    "recipient": r["recipient"],
                    "status": r["status"],
                    "attempts": r["attempts"],
                    "age_hours": round(age / dt.timedelta(hours=1), 1),
                    "last_error": r["last_error"],
                }
            )
    return stuck


def watch_outbox(
    engine: Engine, settings: Settings, run_date: dt.date, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Tell the engineers (once per day) when the outbox has not drained."""
    stuck = backlog(engine, settings, now)
    result: dict[str, Any] = {"stuck": len(stuck), "alert_id": None}
    if not stuck:
        return result
    aid = alert_id("engineer", "outbox", run_date.isoformat())
    msg = compose_outbox_backlog(
        alert_id=aid,
        recipients=engineers(settings),
        run_date=run_date,
        max_age_hours=settings.outbox_max_age_hours,
        stuck=stuck,
    )
    log.warning(
        "outbox: %d deliveries undelivered for %d hours or failed",
        len(stuck),
        settings.outbox_max_age_hours,
    )
    if not msg.recipients:
        log.warning("SERASAN_ENGINEER_EMAIL is not set: nobody to tell about the outbox")
        return result
    enqueue(
        engine,
        settings,
        OutboxAlert(
            alert_id=aid,
            kind="engineer",
            recipients=msg.recipients,
            subject=msg.subject,
            body=msg.body,
        ),
        now,
    )
    result.update(alert_id=aid, delivery=drain(engine, settings, alert_ids=[aid], now=now))
    return result


def task_failure_alert(
    settings: Settings,
    *,
    dag_id: str,
    task_id: str,
    run_id: str,
    logical_date: str | None = None,
    try_number: int | None = None,
    log_url: str | None = None,
    log_path: str | None = None,
    error: str | None = None,
) -> OutboxAlert:
    """The engineers' message for a task that failed after its retries; OPDs never get it."""
    aid = alert_id("engineer", dag_id, task_id, run_id)  # once per task and DAG run
    msg = compose_task_failure(
        alert_id=aid,
        recipients=engineers(settings),
        dag_id=dag_id,
        task_id=task_id,
        run_id=run_id,
        logical_date=logical_date,
        try_number=try_number,
        log_url=log_url,
        log_path=log_path,
        error=scrub(error or "", settings) or None,
    )
    return OutboxAlert(
        alert_id=aid, kind="engineer", recipients=msg.recipients, subject=msg.subject, body=msg.body
    )


def deliver_now(
    settings: Settings, alert: OutboxAlert, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Outbox first, then send at once (failure callbacks). Never raises: if the warehouse
    itself is what failed, the message goes out directly instead, so engineers still hear."""
    if not alert.recipients:
        log.warning(
            "no recipient for %s alert %s (set SERASAN_ENGINEER_EMAIL)", alert.kind, alert.alert_id
        )
        return {"sent": 0, "retrying": 0, "failed": 0, "errors": ["no recipient"]}
    from serasan.warehouse.db import make_engine

    engine = make_engine(settings.warehouse_url)
    try:
        try:
            enqueue(engine, settings, alert, now)
        except Exception as exc:  # the warehouse is down or not migrated: skip the outbox
            log.warning(
                "outbox unavailable (%s); sending %s directly", type(exc).__name__, alert.alert_id
            )
            return _send_directly(settings, alert)
        try:
            return drain(engine, settings, alert_ids=[alert.alert_id], now=now)
        except Exception as exc:  # it is in the outbox: the next drain sends it
            log.warning(
                "could not drain %s now (%s); the next drain will",
                alert.alert_id,
                scrub(str(exc), settings),
            )
            return {"sent": 0, "retrying": 1, "failed": 0, "errors": [type(exc).__name__]}
    finally:
        engine.dispose()


def _send_directly(settings: Settings, alert: OutboxAlert) -> dict[str, Any]:
    result: dict[str, Any] = {"sent": 0, "retrying": 0, "failed": 0, "errors": []}
    sessions: dict[str, Any] = {}
    try:
        for rcpt in alert.recipients:
            for ch in channels(settings):
                key = dedupe_key(alert.kind, alert.alert_id, ch, rcpt)
                row = {
                    "dedupe_key": key,
                    "alert_id": alert.alert_id,
                    "kind": alert.kind,
                    "channel": ch,
                    "recipient": rcpt,
                    "subject": alert.subject,
                    "body": alert.body,
                    "dataset_id": alert.dataset_id,
                    "regency": alert.regency,
                    "opd": alert.opd,
                    "lake_key": alert.lake_key,
                }
                try:
                    _send(settings, sessions, row, None)
                    result["sent"] += 1
                except DeliveryError as exc:
                    result["failed"] += 1
                    result["errors"].append(str(exc))
                    log.error(
                        "%s alert %s to %s via %s lost: %s",
                        alert.kind,
                        alert.alert_id,
                        rcpt,
                        ch,
                        exc,
                    )
    finally:
        for session in sessions.values():
            session.close()
    return result
