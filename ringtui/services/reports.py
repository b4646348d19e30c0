"""Report subscriptions (S15): a saved filter with a relative period, sent daily, weekly or monthly.

The frequency and the filter's period go together: daily reports cover yesterday,
weekly ones last week (Monday to Sunday), monthly ones last month, in the
account's time zone. `run_due` renders, for every subscription whose latest
period has no delivery yet, the call indicators and the heatmap of that period as
the subscriber sees them (their role and scopes apply), and sends the image by
e-mail when [smtp] is configured, or writes it to a folder. One ReportDelivery
row per (subscription, period) makes it idempotent; a run that missed days
catches up with the latest period only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from ringtui.errors import Invalid, NotFound, PermissionDenied, RingtuiError
from ringtui.models import ReportDelivery, ReportSubscription, SavedFilter, User
from ringtui.models.types import utcnow
from ringtui.services.access import Area, is_admin, require_area
from ringtui.services.base import Operation, audit
from ringtui.services.filters import account_zone, parse_period
from ringtui.services.plans import Feature, require_feature
from ringtui.services.saved_filters import find_filter, options_of
from ringtui.services.validation import check_email
from ringtui.vocab import ReportFrequency

PERIOD_OF = {ReportFrequency.DAILY: "yesterday", ReportFrequency.WEEKLY: "last-week",
             ReportFrequency.MONTHLY: "last-month"}
FREQUENCIES = tuple(f.value for f in ReportFrequency)
MIME = "image/png"


def _frequency(every: str) -> ReportFrequency:
    clean = every.strip().lower()
    if clean not in FREQUENCIES:
        raise Invalid(f"unknown frequency {every!r}: give {', '.join(FREQUENCIES)}")
    return ReportFrequency(clean)


def _require_reports(op: Operation) -> None:
    require_feature(op.account, Feature.IMAGE_REPORTS)
    require_area(op, Area.STATISTICS)


def _check_period(saved: SavedFilter, every: ReportFrequency) -> None:
    period = saved.options.get("period")
    wanted = PERIOD_OF[every]
    if period is None or period.strip().lower() not in PERIOD_OF.values():
        raise Invalid(f"saved filter {saved.name!r} has period {period!r}: a report needs a relative "
                      f"period (yesterday, last-week or last-month); save a filter with --period {wanted}")
    if period.strip().lower() != wanted:
        raise Invalid(f"saved filter {saved.name!r} covers {period}: a {every.value} report covers {wanted} "
                      f"(daily: yesterday, weekly: last-week, monthly: last-month)")


def _recipient(op: Operation, to: str | None) -> str:
    address = check_email(to) if to else op.actor.email
    if address != op.actor.email and not is_admin(op.actor):
        raise PermissionDenied(f"{op.actor.email} may send reports only to their own address, not "
                               f"{address!r} (an admin may give any --to)")
    return address


def _subscription_dict(sub: ReportSubscription, filter_name: str, subscriber: str) -> dict[str, Any]:
    return {"id": sub.id, "filter": filter_name, "every": sub.every, "period": PERIOD_OF[ReportFrequency(
        sub.every)], "to": sub.to_email, "subscriber": subscriber, "created_at": sub.created_at}


def subscribe(op: Operation, filter_name: str, every: str, to: str | None = None) -> dict[str, Any]:
    _require_reports(op)
    frequency = _frequency(every)
    saved = find_filter(op, filter_name)
    _check_period(saved, frequency)
    address = _recipient(op, to)
    sub = ReportSubscription(filter_id=saved.id, user_id=op.actor.id, to_email=address, every=frequency)
    op.session.add(sub)
    op.session.flush()
    result = _subscription_dict(sub, saved.name, op.actor.email)
    audit(op, "reports.subscribe", str(sub.id), after=result)
    return result


def _rows(op: Operation, *, everyone: bool) -> list[tuple[ReportSubscription, SavedFilter, User]]:
    query = (select(ReportSubscription, SavedFilter, User)
             .join(SavedFilter, SavedFilter.id == ReportSubscription.filter_id)
             .join(User, User.id == ReportSubscription.user_id)
             .order_by(ReportSubscription.id))
    if not everyone:
        query = query.where(ReportSubscription.user_id == op.actor.id)
    return list(op.session.exec(query))


def list_subscriptions(op: Operation) -> list[dict[str, Any]]:
    """The acting user's subscriptions (every one for an admin)."""
    return [_subscription_dict(sub, saved.name, user.email)
            for sub, saved, user in _rows(op, everyone=is_admin(op.actor))]


def unsubscribe(op: Operation, subscription_id: int) -> dict[str, Any]:
    found = [row for row in _rows(op, everyone=is_admin(op.actor)) if row[0].id == subscription_id]
    if not found:
        raise NotFound(f"no report subscription {subscription_id} of yours (see `ringtui reports list`)")
    sub, saved, user = found[0]
    result = _subscription_dict(sub, saved.name, user.email)
    _drop(op, sub)
    audit(op, "reports.unsubscribe", str(subscription_id), before=result)
    return result


def drop_subscriptions_of(op: Operation, user: User) -> None:
    """A user leaving takes their subscriptions (and their deliveries) along."""
    for sub in op.session.exec(select(ReportSubscription).where(ReportSubscription.user_id == user.id)):
        _drop(op, sub)
    op.session.flush()


def _drop(op: Operation, sub: ReportSubscription) -> None:
    for delivery in op.session.exec(select(ReportDelivery).where(ReportDelivery.subscription_id == sub.id)):
        op.session.delete(delivery)
    op.session.flush()
    op.session.delete(sub)


# ---------------------------------------------------------------- run-due


@dataclass
class RunResult:
    delivered: list[dict[str, Any]] = field(default_factory=list)
    already: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "already_delivered": self.already, "failed": self.failed}


def _destination(op: Operation, out_dir: Path | None) -> Path | None:
    """The folder to write to, or None when reports go by e-mail."""
    if op.settings.smtp is not None:
        return None
    folder = out_dir or op.settings.reports_out_dir
    if folder is None:
        raise Invalid("no [smtp] host in config.toml, so reports are written to files: give --out-dir DIR "
                      "(or set [reports] out_dir), or configure [smtp] to send them by e-mail")
    if not folder.is_dir():
        raise Invalid(f"--out-dir {folder}: no such folder")
    return folder


def run_due(op: Operation, out_dir: Path | None = None, *, now: datetime | None = None) -> RunResult:
    """Render and deliver every report whose latest period has not been delivered; see the module doc."""
    require_feature(op.account, Feature.IMAGE_REPORTS)
    if not is_admin(op.actor):
        raise PermissionDenied(f"{op.actor.email} has the {op.actor.role} role: `reports run-due` delivers "
                               "every subscriber's reports; run it as an admin (the default acting user)")
    folder = _destination(op, out_dir)
    moment = now or utcnow()
    zone = account_zone(op)
    result = RunResult()
    for sub, saved, user in _rows(op, everyone=True):
        period = parse_period(PERIOD_OF[ReportFrequency(sub.every)], zone, moment)
        first = period.start.astimezone(zone).date()
        last = period.end.astimezone(zone).date() - timedelta(days=1)
        entry = {"subscription": sub.id, "filter": saved.name, "to": sub.to_email,
                 "period_start": first, "period_end": last}
        done = op.session.exec(select(ReportDelivery).where(
            ReportDelivery.subscription_id == sub.id, ReportDelivery.period_start == first)).first()
        if done is not None:
            result.already.append(entry | {"channel": done.channel, "location": done.location})
            continue
        try:
            with op.session.begin_nested():
                channel, location = _deliver(replace(op, actor=user), sub, saved, entry, folder, moment)
                op.session.add(ReportDelivery(subscription_id=sub.id, period_start=first, period_end=last,
                                              channel=channel, location=location))
        except (RingtuiError, OSError) as error:
            result.failed.append(entry | {"error": str(error)})
            continue
        op.session.commit()  # each delivery kept as soon as it is sent: a crash later resends nothing
        result.delivered.append(entry | {"channel": channel, "location": location})
    return result


def _deliver(as_subscriber: Operation, sub: ReportSubscription, saved: SavedFilter, entry: dict[str, Any],
             folder: Path | None, now: datetime) -> tuple[str, str]:
    from ringtui.services import mail, report_images, stats

    options = options_of(saved)
    figures = stats.call_stats(as_subscriber, options, now=now)
    heatmap = stats.call_heatmap(as_subscriber, None, options, now=now)
    span = (str(entry["period_start"]) if entry["period_start"] == entry["period_end"]
            else f"{entry['period_start']} to {entry['period_end']}")
    title = f"{as_subscriber.account.company}: calls, {saved.name}, {span}"
    image = report_images.report_image(figures, heatmap, title)
    filename = f"report-{sub.id}-{saved.name}-{entry['period_start']}.png".replace("/", "_").replace(" ", "_")
    if folder is None:
        body = (f"The {sub.every} call report '{saved.name}' for {span} is attached.\n"
                f"Unsubscribe: ringtui reports unsubscribe {sub.id}\n")
        mail.send(as_subscriber.settings.smtp, sub.to_email, title, body,
                  [mail.Attachment(filename, image, MIME)])
        return "smtp", sub.to_email
    path = folder / filename
    report_images.write_image(path, image)
    return "file", str(path)
