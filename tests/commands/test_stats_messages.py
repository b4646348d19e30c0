"""`ringtui stats sms|meet|omnichannel` (S7-S9) and `stats history|heatmap --channel` against figures
computed by hand on a small fixed dataset, on SQLite and PostgreSQL.

The FR account is on Europe/Paris (UTC+1 in November); Nov 2 2026 is a Monday. Times UTC:
  SMS  s1 Nov 2 08:00 in  +33612345678 ana                          1 fragment
       s2 Nov 2 08:05 out +33612345678 ana  (answers s1 in 300 s)   1 fragment  0.05
       s3 Nov 2 09:00 in  +34612345678 bob  IVR Support  UCS-2      1 fragment
       s4 Nov 2 09:10 out +34612345678 bob  IVR Support (600 s)     2 fragments 0.10
       s5 Nov 2 12:00 in  +4915112345678    IVR Sales   unanswered  1 fragment
       s6 Nov 2 13:00 out +33699999999      campaign 1              1 fragment  0.05
       s7 Nov 2 14:00 in  +33699999999      a campaign is no answer 1 fragment
       s8 Nov 3 10:00 out +33612345678 ana                          1 fragment  0.05
  Meet m1 Nov 2 09:00-09:30 zoom ana 4 people; m2 10:00-11:00 teams bob 2; m3 14:00-14:15 zoom ana 3;
       m4 Nov 2 15:00 ringover bob, still open (not counted)
  Omni o1 08:00 whatsapp in wa-1; o2 08:02 out wa-1 ana (120 s); o3 09:00 and o4 09:30 messenger in fb-1
       bob; o5 10:00 out fb-1 bob (3600 s, 1800 s); o6 11:00 instagram in ig-1 unanswered
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, update

from ringtui.db import engine_for
from ringtui.models import Account, Ivr, Meeting, OmniMessage, SmsMessage, User
from ringtui.services.sms_text import analyse
from tests.commands import test_calls as base
from tests.commands.test_calls import ANA, BOB, NOV_2, SUP
from tests.conftest import ok, refused

base.register_commands()
LINE = "+33144951479"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _ids(connection, model, key) -> dict[str, int]:
    return dict(connection.execute(select(key, model.id)).all())


def sms(when, direction, customer, text, *, user=None, ivr=None, campaign=None, price="0"):
    shape = analyse(text)
    return {"sent_at": when, "direction": direction, "customer_number": customer, "account_number": LINE,
            "user": user, "ivr": ivr, "campaign_id": campaign, "text": text, "unicode": shape.unicode,
            "fragments": shape.fragments, "price": Decimal(price),
            "status": "received" if direction == "in" else "delivered"}


SMS = [
    sms(at(2, 8), "in", "+33612345678", "Bonjour", user=ANA),
    sms(at(2, 8, 5), "out", "+33612345678", "Oui ?", user=ANA, price="0.05"),
    sms(at(2, 9), "in", "+34612345678", "¿Dónde está?", user=BOB, ivr="Support"),
    sms(at(2, 9, 10), "out", "+34612345678", "a" * 200, user=BOB, ivr="Support", price="0.10"),
    sms(at(2, 12), "in", "+4915112345678", "Hi", ivr="Sales"),
    sms(at(2, 13), "out", "+33699999999", "Promo 10€", campaign=1, price="0.05"),
    sms(at(2, 14), "in", "+33699999999", "STOP"),
    sms(at(3, 10), "out", "+33612345678", "Rappel", user=ANA, price="0.05"),
]
MEETINGS = [
    {"tool": "zoom", "user": ANA, "started_at": at(2, 9), "ended_at": at(2, 9, 30), "participants": 4},
    {"tool": "teams", "user": BOB, "started_at": at(2, 10), "ended_at": at(2, 11), "participants": 2},
    {"tool": "zoom", "user": ANA, "started_at": at(2, 14), "ended_at": at(2, 14, 15), "participants": 3},
    {"tool": "ringover", "user": BOB, "started_at": at(2, 15), "ended_at": None, "participants": 5},
]
OMNI = [
    ("whatsapp", "in", "wa-1", None, at(2, 8)), ("whatsapp", "out", "wa-1", ANA, at(2, 8, 2)),
    ("messenger", "in", "fb-1", BOB, at(2, 9)), ("messenger", "in", "fb-1", BOB, at(2, 9, 30)),
    ("messenger", "out", "fb-1", BOB, at(2, 10)), ("instagram", "in", "ig-1", None, at(2, 11)),
]


def seed_messages(db_url: str) -> None:
    with engine_for(db_url).begin() as connection:
        users, ivrs = _ids(connection, User, User.email), _ids(connection, Ivr, Ivr.name)
        connection.execute(insert(SmsMessage), [
            {k: v for k, v in row.items() if k not in ("user", "ivr")}
            | {"user_id": users.get(row["user"]), "ivr_id": ivrs.get(row["ivr"])} for row in SMS])
        connection.execute(insert(Meeting), [
            {k: v for k, v in row.items() if k != "user"} | {"user_id": users[row["user"]], "title": "Demo"}
            for row in MEETINGS])
        connection.execute(insert(OmniMessage), [
            {"platform": platform, "direction": direction, "conversation": conversation,
             "customer": f"customer-{conversation}", "user_id": users.get(user), "sent_at": when,
             "text": "..."} for platform, direction, conversation, user, when in OMNI])


def activate_omnichannel(db_url: str) -> None:
    with engine_for(db_url).begin() as connection:
        connection.execute(update(Account).values(addons=["omnichannel"]))


@pytest.fixture
def messages(cli, db_url):
    base.build_center(cli)
    seed_messages(db_url)
    return cli


def stats(cli, *args: str, as_user: str | None = None):
    return ok(cli("stats", *args, "--json", as_user=as_user)).json()


# ---------------------------------------------------------------- S7 SMS


def test_sms_figures_by_hand(messages):
    figures = stats(messages, "sms")
    assert figures == {
        "total_sms": 8, "sent_sms": 4, "received_sms": 4, "direct_sms": 7, "campaign_sms": 1,
        "total_fragments": 9, "unicode_sms": 1, "total_price": 0.25,
        "avg_response_s": 450.0, "unanswered_sms": 2,  # s1 300 s, s3 600 s; s5 and s7 unanswered
        "leaderboard": [{"agent": ANA, "sent": 2, "received": 1, "fragments": 2},
                        {"agent": BOB, "sent": 1, "received": 1, "fragments": 2}],
    }


@pytest.mark.parametrize(("filters", "total", "unanswered"), [
    (("--period", NOV_2), 7, 2),
    (("--scope", "ivrs"), 3, 1),
    (("--scope", "direct"), 4, 1),        # s1 s2 s7 s8: not the IVRs', not the campaign's
    (("--ivr", "Sales"), 1, 1),
    (("--hours", "09:00-10:00"), 2, 0),   # local 09:00-10:00 is 08:00-09:00 UTC: s1, s2
    (("--direction", "in"), 4, 2),
    (("--country", "ES"), 2, 0),
    (("--user", BOB), 2, 0),
    (("--ivr", "Support", "--ivr", "Sales"), 3, 1),  # s3 s4 | s5
    (("--ivr", "Sales,Support", "--direction", "in"), 2, 1),  # s3 s5
    (("--user", ANA, "--user", BOB), 5, 0),  # s1 s2 s8 | s3 s4
    (("--country", "ES", "--country", "DE"), 3, 1),  # s3 s4 | s5
    (("--scope", "custom", "--group", "Nobody"), None, None),
])
def test_sms_filters(messages, filters, total, unanswered):
    if total is None:
        refused(messages("stats", "sms", *filters), "'Nobody'")
        return
    figures = stats(messages, "sms", *filters)
    assert (figures["total_sms"], figures["unanswered_sms"]) == (total, unanswered)


def test_sms_supervisor_sees_only_granted_ivrs(messages):
    figures = stats(messages, "sms", as_user=SUP)
    assert (figures["total_sms"], figures["unanswered_sms"], figures["leaderboard"]) == (1, 1, [])


def test_sms_bad_requests_are_refused(messages, unchanged):
    with unchanged():
        refused(messages("stats", "sms", "--scope", "custom"), "scope 'custom'", "--ivr, --group or --user")
        refused(messages("stats", "sms", "--scope", "robots"), "'robots'")
        refused(messages("stats", "sms", "--period", "someday"), "'someday'")
        refused(messages("stats", "sms", "--direction", "sideways"), "'sideways'")
        refused(messages("stats", "sms", "--country", "XX"), "XX")
        refused(messages("stats", "sms", as_user=ANA), ANA, "statistics")
    ok(messages("account", "plan", "smart"))
    refused(messages("stats", "sms"), "statistics", "business or advanced")


def test_a_saved_filter_with_call_only_options_is_refused_for_sms(messages, unchanged):
    ok(messages("filters", "save", "lost", "--exclude-type", "answered", "--number", "+33144951479"))
    with unchanged():
        refused(messages("stats", "sms", "--filter", "lost"), "--exclude-type, --number", "apply to calls",
                "saved filter 'lost' holds --exclude-type, --number")  # the user typed only --filter


def test_sms_table_and_csv(messages):
    table = ok(messages("stats", "sms")).stdout
    assert "total fragments" in table and ANA in table
    lines = ok(messages("stats", "sms", "--csv")).stdout.splitlines()
    assert lines == ["agent,sent,received,fragments", f"{ANA},2,1,2", f"{BOB},1,1,2"]


def test_sms_history_and_heatmap(messages):
    history = stats(messages, "history", "--channel", "sms", "--interval", "day")
    assert history == {"indicator": "total_sms", "interval": "day", "points": [
        {"start": "2026-11-01T23:00:00Z", "value": 7}, {"start": "2026-11-02T23:00:00Z", "value": 1}]}
    fragments = stats(messages, "history", "--channel", "SMS", "--interval", "day",
                      "--indicator", "total_fragments", "--period", NOV_2)
    assert fragments["points"] == [{"start": "2026-11-01T23:00:00Z", "value": 8}]
    grid = stats(messages, "heatmap", "--channel", "sms")
    cells = {(c["weekday"], c["hour"]): c["value"] for c in grid["cells"]}
    assert len(cells) == 168 and grid["indicator"] == "total_sms"
    assert (cells[(0, 9)], cells[(0, 10)], cells[(1, 11)], cells[(0, 0)]) == (2, 2, 1, 0)
    response = stats(messages, "heatmap", "--channel", "sms", "--indicator", "avg_response_s")
    values = {(c["weekday"], c["hour"]): c["value"] for c in response["cells"]}
    assert (values[(0, 9)], values[(0, 10)], values[(0, 0)]) == (300.0, 600.0, None)
    assert "Mon" in ok(messages("stats", "heatmap", "--channel", "sms")).stdout


def test_history_and_heatmap_bad_channel_or_indicator(messages):
    refused(messages("stats", "heatmap", "--channel", "fax"), "'fax'", "calls, sms, omnichannel")
    refused(messages("stats", "history", "--interval", "day", "--channel", "sms", "--indicator",
                     "total_calls"), "'total_calls'", "total_sms")
    calls = stats(messages, "heatmap", "--channel", "calls")
    assert calls["indicator"] == "total_calls"


# ---------------------------------------------------------------- S8 Meet


def test_meet_figures_by_hand(messages):
    assert stats(messages, "meet") == {
        "total_meetings": 3, "by_tool": {"ringover": 0, "teams": 1, "zoom": 2, "google-meet": 0},
        "total_duration_s": 6300.0, "avg_duration_s": 2100.0, "avg_participants": 3.0,
        "leaderboard": [{"agent": ANA, "meetings": 2, "duration_s": 2700.0},
                        {"agent": BOB, "meetings": 1, "duration_s": 3600.0}],
    }
    by_duration = stats(messages, "meet", "--sort", "duration")["leaderboard"]
    assert [row["agent"] for row in by_duration] == [BOB, ANA]


def test_meet_filters(messages, unchanged):
    zoom = stats(messages, "meet", "--tool", "Zoom")
    assert (zoom["total_meetings"], zoom["total_duration_s"], zoom["avg_participants"]) == (2, 2700.0, 3.5)
    assert stats(messages, "meet", "--user", BOB)["total_meetings"] == 1
    assert stats(messages, "meet", "--user", BOB, "--user", ANA)["total_meetings"] == 3
    assert stats(messages, "meet", "--hours", "10:00-11:00")["total_meetings"] == 1  # m1 at 10:00 local
    assert stats(messages, "meet", "--period", "2026-11-03..2026-11-03")["avg_duration_s"] is None
    with unchanged():
        refused(messages("stats", "meet", "--tool", "skype"), "'skype'", "zoom")
        refused(messages("stats", "meet", "--sort", "fun"), "'fun'", "meetings, duration")
        refused(messages("stats", "meet", "--group", "Nobody"), "'Nobody'")


def test_meet_csv(messages):
    assert ok(messages("stats", "meet", "--csv")).stdout.splitlines() == [
        "agent,meetings,duration_s", f"{ANA},2,2700.0", f"{BOB},1,3600.0"]


# ---------------------------------------------------------------- S9 omnichannel


def test_omnichannel_needs_the_add_on(messages, unchanged):
    with unchanged():
        refused(messages("stats", "omnichannel"), "omnichannel add-on")
        refused(messages("stats", "heatmap", "--channel", "omnichannel"), "omnichannel add-on")


def test_omnichannel_figures_by_hand(messages, db_url):
    activate_omnichannel(db_url)
    assert stats(messages, "omnichannel") == {
        "total_messages": 6, "sent_messages": 2, "received_messages": 4,
        "avg_response_s": 1840.0, "unanswered_messages": 1,  # (120 + 3600 + 1800) / 3
        "by_platform": {"whatsapp": 2, "messenger": 3, "instagram": 1, "google-reviews": 0, "outlook": 0},
        "leaderboard": [{"agent": BOB, "sent": 1, "received": 2}, {"agent": ANA, "sent": 1, "received": 0}],
    }
    whatsapp = stats(messages, "omnichannel", "--platform", "whatsapp")
    assert (whatsapp["total_messages"], whatsapp["avg_response_s"]) == (2, 120.0)
    refused(messages("stats", "omnichannel", "--platform", "telegram"), "'telegram'", "whatsapp")
    history = stats(messages, "history", "--channel", "omnichannel", "--interval", "hour",
                    "--indicator", "unanswered_messages")
    assert history["points"][-1] == {"start": "2026-11-02T11:00:00Z", "value": 1}


def test_omnichannel_two_users_and_two_groups(messages, db_url):
    activate_omnichannel(db_url)
    assert stats(messages, "omnichannel", "--user", ANA)["total_messages"] == 1  # o2
    assert stats(messages, "omnichannel", "--user", BOB)["total_messages"] == 3  # o3 o4 o5
    assert stats(messages, "omnichannel", "--user", ANA, "--user", BOB)["total_messages"] == 4
    for name, member in (("Front", ANA), ("Back", BOB)):
        ok(messages("groups", "create", name))
        ok(messages("groups", "add", name, member))
    assert stats(messages, "omnichannel", "--group", "Front,Back")["total_messages"] == 4
    refused(messages("stats", "omnichannel", "--group", "Front", "--group", "Nope"), "no group 'Nope'")


def test_omnichannel_own_logs_only(messages, db_url):
    activate_omnichannel(db_url)
    ok(messages("users", "role", BOB, "admin"))
    ok(messages("users", "perms", BOB, "own_logs_only=true"))
    assert stats(messages, "omnichannel", as_user=BOB)["total_messages"] == 3


history = base.history


def test_hourly_call_history_without_a_clock_change(history):
    """One offset all along: the hour buckets still group (SQLite once took the constant for a column)."""
    cli, _ = history
    points = stats(cli, "history", "--interval", "hour", "--period", NOV_2)["points"]
    assert points[:3] == [{"start": "2026-11-01T23:00:00Z", "value": 1},  # c0, 00:30 local
                          {"start": "2026-11-02T08:00:00Z", "value": 1},
                          {"start": "2026-11-02T09:00:00Z", "value": 2}]


def test_saved_filters_apply_to_messages(messages):
    ok(messages("filters", "save", "nov2", "--period", NOV_2))
    assert stats(messages, "sms", "--filter", "nov2")["total_sms"] == 7
    assert stats(messages, "meet", "--filter", "nov2", "--tool", "teams")["total_meetings"] == 1
    ok(messages("filters", "save", "answered", "--type", "answered"))
    refused(messages("stats", "sms", "--filter", "answered"), "--type")
