"""`ringtui calls ...` through the CLI on a small exact history written by the recorder.

The history (times UTC; the FR account is on Europe/Paris, UTC+1 in November):
  c0  Nov 1 23:30 (Nov 2 00:30 local) in  direct  answered by ana  wait 5  talk 50   +33622222222
  c1  Nov 2 08:30 (09:30)  in  Support  answered by ana  wait 20 talk 100  +34612345678  tag Sale
  c2  Nov 2 09:00 (10:00)  in  Support  missed           wait 40           +33612345678
  c4  Nov 2 09:10 (10:10)  out direct   ana calls back +33612345678        talk 60
  c3  Nov 2 12:00 (13:00)  in  Sales    answered by bob  wait 10 talk 200  +33611111111  tag Urgent
  c5  Nov 2 22:30 (23:30)  in  Sales    voicemail        wait 30           +4915112345678
  c6  Nov 2 23:30 (Nov 3 00:30 local) out direct  bob, not answered        +33699999999
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from ringtui.cli import app
from ringtui.commands import calls as calls_command
from ringtui.commands import missed as missed_command
from ringtui.commands import stats as stats_command
from ringtui.db import engine_for
from ringtui.engine.core.events import AttemptSummary, CallEnded, CallSummary
from ringtui.engine.recorder import record_all
from ringtui.models import CallRecord
from ringtui.vocab import CallKind, CallType, Direction, EndedBy, Outcome
from tests.conftest import ADMIN, ok, refused

ANA, BOB, SUP = "ana@acme.test", "bob@acme.test", "sup@acme.test"
LINE = "+33144951479"
LIST_FIELDS = {"id", "started_at", "direction", "type", "from_number", "to_number", "ivr", "agent",
               "wait_s", "talk_s", "tags", "ended_by_customer", "processed_channel", "transferred"}


def register_commands() -> None:
    """Until the lead registers them in ringtui/cli.py, the sub-apps are added to the root here."""
    present = {group.name for group in app.registered_groups}
    for module in (calls_command, missed_command, stats_command):
        if module.NAME not in present:
            app.add_typer(module.app, name=module.NAME, help=module.HELP)


register_commands()


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def call(call_id: str, start: datetime, direction: Direction, kind: CallKind, customer: str, *,
         type_: CallType, ivr: str | None = None, agent: str | None = None, wait: float = 0,
         talk: float = 0, attempts: tuple[tuple[str, Outcome], ...] = (), tags: tuple[str, ...] = (),
         ended_by: EndedBy = EndedBy.CUSTOMER) -> CallEnded:
    end = start + timedelta(seconds=wait + talk)
    answered = start + timedelta(seconds=wait) if type_ == CallType.ANSWERED else None
    inbound = direction == Direction.IN
    summary = CallSummary(
        call_id=call_id, direction=direction, kind=kind,
        from_number=customer if inbound else LINE, to_number=LINE if inbound else customer,
        started_at=start, ended_at=end, type=type_, ended_by=ended_by, ivr=ivr, agent=agent,
        answered_at=answered, wait_s=wait, talk_s=talk, tags=tags,
        attempts=tuple(AttemptSummary(who, start, start + timedelta(seconds=wait), outcome)
                       for who, outcome in attempts))
    return CallEnded(at=end, call=summary)


IN, OUT, IVR, DIRECT = Direction.IN, Direction.OUT, CallKind.IVR, CallKind.DIRECT
ANSWERED, MISSED, VOICEMAIL = CallType.ANSWERED, CallType.MISSED, CallType.VOICEMAIL

HISTORY = [
    call("c0", at(1, 23, 30), IN, DIRECT, "+33622222222", type_=ANSWERED, agent=ANA, wait=5, talk=50,
         attempts=((ANA, Outcome.ANSWERED),)),
    call("c1", at(2, 8, 30), IN, IVR, "+34612345678", type_=ANSWERED, ivr="Support", agent=ANA, wait=20,
         talk=100, attempts=((ANA, Outcome.ANSWERED), (BOB, Outcome.CALL_ANSWERED)), tags=("Sale",)),
    call("c2", at(2, 9), IN, IVR, "+33612345678", type_=MISSED, ivr="Support", wait=40,
         attempts=((ANA, Outcome.NO_ANSWER), (BOB, Outcome.REJECTED))),
    call("c4", at(2, 9, 10), OUT, DIRECT, "+33612345678", type_=ANSWERED, agent=ANA, talk=60,
         attempts=((ANA, Outcome.OUT),), ended_by=EndedBy.AGENT),
    call("c3", at(2, 12), IN, IVR, "+33611111111", type_=ANSWERED, ivr="Sales", agent=BOB, wait=10,
         talk=200, attempts=((BOB, Outcome.ANSWERED), (ANA, Outcome.INCALL)), tags=("Urgent",)),
    call("c5", at(2, 22, 30), IN, IVR, "+4915112345678", type_=VOICEMAIL, ivr="Sales", wait=30,
         attempts=((BOB, Outcome.SNOOZE),)),
    call("c6", at(2, 23, 30), OUT, DIRECT, "+33699999999", type_=MISSED, agent=BOB,
         attempts=((BOB, Outcome.OUT),), ended_by=EndedBy.SYSTEM),
]
NOV_2 = "2026-11-02..2026-11-02"


def build_center(cli) -> None:
    ok(cli("init", "--company", "Acme", "--plan", "business", "--admin", ADMIN, "--country", "FR"))
    for ivr in ("Support", "Sales"):
        ok(cli("ivr", "create", ivr))
    for tag in ("Sale", "Urgent", "Callback"):
        ok(cli("tags", "add", tag))
    for email in (ANA, BOB, SUP):
        ok(cli("users", "add", email))
    ok(cli("users", "role", SUP, "supervisor", "--scope", "ivr:Sales"))


@pytest.fixture
def history(cli, db_url):
    """The account with the history above; returns (cli, {call_id: record id})."""
    build_center(cli)
    engine = engine_for(db_url)
    record_all(engine, HISTORY)
    with Session(engine) as db:
        ids = dict(db.exec(select(CallRecord.call_id, CallRecord.id)).all())
    return cli, ids


def listed(cli, *args: str, as_user: str | None = None) -> list[dict]:
    return ok(cli("calls", "list", *args, "--json", as_user=as_user)).json()


def names(rows: list[dict], ids: dict[str, int]) -> list[str]:
    by_id = {record_id: call_id for call_id, record_id in ids.items()}
    return [by_id[row["id"]] for row in rows]


# ---------------------------------------------------------------- list


def test_list_has_the_contract_fields_newest_first(history):
    cli, ids = history
    rows = listed(cli)
    assert names(rows, ids) == ["c6", "c5", "c3", "c4", "c2", "c1", "c0"]
    assert all(set(row) == LIST_FIELDS for row in rows)
    c1 = rows[names(rows, ids).index("c1")]
    assert c1 == {"id": ids["c1"], "started_at": "2026-11-02T08:30:00Z", "direction": "in",
                  "type": "answered", "from_number": "+34612345678", "to_number": LINE, "ivr": "Support",
                  "agent": ANA, "wait_s": 20.0, "talk_s": 100.0, "tags": ["Sale"],
                  "ended_by_customer": True, "processed_channel": None, "transferred": False}
    assert rows[0]["ended_by_customer"] is False


def test_period_is_a_day_of_the_account_time_zone(history):
    cli, ids = history
    assert names(listed(cli, "--period", NOV_2), ids) == ["c5", "c3", "c4", "c2", "c1", "c0"]
    assert names(listed(cli, "--period", "2026-11-03..2026-11-03"), ids) == ["c6"]


def test_hours_apply_to_every_day_and_may_span_midnight(history):
    cli, ids = history
    assert names(listed(cli, "--period", NOV_2, "--hours", "09:00-12:00"), ids) == ["c4", "c2", "c1"]
    assert names(listed(cli, "--hours", "23:00-01:00"), ids) == ["c6", "c5", "c0"]
    assert names(listed(cli, "--period", NOV_2, "--hours", "23:00-01:00"), ids) == ["c5", "c0"]


def test_type_direction_ivr_tag_country_scope_user_filters(history):
    cli, ids = history
    assert names(listed(cli, "--type", "missed"), ids) == ["c6", "c2"]
    assert names(listed(cli, "--period", NOV_2, "--direction", "out"), ids) == ["c4"]
    assert names(listed(cli, "--ivr", "Sales"), ids) == ["c5", "c3"]
    assert names(listed(cli, "--tag", "sale"), ids) == ["c1"]
    assert names(listed(cli, "--country", "es"), ids) == ["c1"]
    assert names(listed(cli, "--country", "DE"), ids) == ["c5"]
    assert names(listed(cli, "--scope", "direct"), ids) == ["c6", "c4", "c0"]
    assert names(listed(cli, "--scope", "ivrs", "--type", "answered"), ids) == ["c3", "c1"]
    assert names(listed(cli, "--user", BOB), ids) == ["c6", "c3"]
    assert names(listed(cli, "--limit", "2"), ids) == ["c6", "c5"]


def test_several_types_included_or_excluded(history):
    cli, ids = history
    assert names(listed(cli, "--type", "missed", "--type", "voicemail"), ids) == ["c6", "c5", "c2"]
    assert names(listed(cli, "--type", "missed,voicemail"), ids) == ["c6", "c5", "c2"]
    assert names(listed(cli, "--exclude-type", "answered"), ids) == ["c6", "c5", "c2"]
    assert names(listed(cli, "--exclude-type", "answered", "--exclude-type", "missed"), ids) == ["c5"]
    assert names(listed(cli, "--direction", "in", "--exclude-type", "answered,voicemail"), ids) == ["c2"]
    figures = ok(cli("stats", "calls", "--type", "missed", "--type", "voicemail", "--period", NOV_2,
                     "--json")).json()  # c2 (40 s) and c5 (30 s)
    assert (figures["total_calls"], figures["missed_calls"], figures["avg_abandon_s"]) == (2, 2, 35.0)
    saved = ok(cli("filters", "save", "lost", "--type", "missed", "--type", "voicemail", "--json")).json()
    assert saved["options"] == {"type": "missed,voicemail"}
    assert names(listed(cli, "--filter", "lost"), ids) == ["c6", "c5", "c2"]


def test_number_refines_to_the_calls_of_one_account_number(history):
    cli, ids = history
    every = ["c6", "c5", "c3", "c4", "c2", "c1", "c0"]  # all reach or leave from LINE
    assert names(listed(cli, "--number", LINE), ids) == every
    assert names(listed(cli, "--number", "01 44 95 14 79", "--direction", "out"), ids) == ["c6", "c4"]
    assert listed(cli, "--number", "+33144951480") == []
    both = listed(cli, "--number", "+33144951480", "--number", LINE, "--ivr", "Sales")
    assert names(both, ids) == ["c5", "c3"]


@pytest.mark.parametrize(("option", "value", "fragment"), [
    ("--exclude-type", "busy", "'busy'"), ("--type", "missed,busy", "'busy'"), ("--number", "123", "'123'")])
def test_bad_type_lists_and_numbers_are_refused(history, unchanged, option, value, fragment):
    cli, _ = history
    with unchanged():
        refused(cli("calls", "list", option, value), fragment)
        refused(cli("stats", "calls", option, value), fragment)


def test_csv_and_table_output(history):
    cli, _ = history
    lines = ok(cli("calls", "list", "--csv", "--period", NOV_2)).stdout.splitlines()
    assert lines[0].startswith("id,started_at,direction,type,from_number") and len(lines) == 7
    assert "+34612345678" in ok(cli("calls", "list")).stdout


def test_a_table_wider_than_the_terminal_loses_no_column(history):
    """At 80 columns the calls table is wider than the terminal: Rich cut its lines at the edge,
    so wait, talk, tags, processed and transferred vanished without a sign; now the long lines
    wrap in the terminal instead."""
    cli, _ = history
    table = ok(cli("calls", "list", "--period", NOV_2, env={"COLUMNS": "80"})).stdout
    assert "200.0" in table and "100.0" in table  # c3's and c1's talk time, near the right edge


def test_the_table_shows_times_on_the_accounts_clock_and_json_and_csv_stay_utc(history):
    """The account is in Europe/Paris and --period NOV_2 means its local day: the table showed c1
    (08:30 UTC) as 08:30, an hour off the clock the supervisor reads and the filters use."""
    cli, ids = history
    table = ok(cli("calls", "list", "--period", NOV_2)).stdout
    assert "2026-11-02 09:30" in table and "2026-11-02 08:30" not in table
    assert "2026-11-02 00:30" in table  # c0: 23:30 UTC the day before, in the local day asked for
    assert "times in Europe/Paris" in table
    c1 = next(row for row in listed(cli, "--period", NOV_2) if row["id"] == ids["c1"])
    assert c1["started_at"] == "2026-11-02T08:30:00Z"
    assert ",2026-11-02T08:30:00Z," in ok(cli("calls", "list", "--csv", "--period", NOV_2)).stdout
    shown = ok(cli("calls", "show", str(ids["c1"]))).stdout
    assert "2026-11-02 09:30" in shown and "times in Europe/Paris" in shown


def test_csv_has_every_key_of_the_json_rows(history):
    cli, _ = history
    rows = list(csv.DictReader(io.StringIO(ok(cli("calls", "list", "--csv", "--period", NOV_2)).stdout)))
    assert set(rows[0]) == LIST_FIELDS
    assert [row["ended_by_customer"] for row in rows] == ["yes", "yes", "no", "yes", "yes", "yes"]


@pytest.mark.parametrize(("option", "value", "fragment"), [
    ("--period", "last-year", "'last-year'"),
    ("--period", "2026-11-05..2026-11-01", "'2026-11-05..2026-11-01'"),
    ("--period", "2026-13-01..2026-13-02", "'2026-13-01'"),
    ("--hours", "9-18", "'9-18'"),
    ("--hours", "25:00-26:00", "'25:00-26:00'"),
    ("--direction", "sideways", "'sideways'"),
    ("--type", "busy", "'busy'"),
    ("--ivr", "Nope", "'Nope'"),
    ("--user", "who@acme.test", "'who@acme.test'"),
    ("--country", "XX", "'XX'"),
    ("--tag", "Nope", "'Nope'"),
    ("--scope", "everything", "'everything'"),
    ("--limit", "0", "limit 0"),
])
def test_bad_filter_values_are_refused_naming_them(history, option, value, fragment):
    cli, _ = history
    refused(cli("calls", "list", option, value), fragment)


def test_custom_scope_needs_a_selection(history):
    cli, ids = history
    refused(cli("calls", "list", "--scope", "custom"), "'custom'", "--ivr")
    assert names(listed(cli, "--scope", "custom", "--ivr", "Support"), ids) == ["c2", "c1"]


def test_per_ivr_filter_needs_business_plan(history):
    cli, ids = history
    ok(cli("account", "plan", "smart"))
    refused(cli("calls", "list", "--ivr", "Sales"), "per-IVR call filters", "business or advanced")
    assert names(listed(cli, "--type", "voicemail"), ids) == ["c5"]


# ---------------------------------------------------------------- who sees what


def test_supervisor_sees_only_the_calls_of_granted_ivrs(history, unchanged):
    cli, ids = history
    assert names(listed(cli, as_user=SUP), ids) == ["c5", "c3"]
    ok(cli("calls", "show", str(ids["c3"]), as_user=SUP))
    with unchanged():
        refused(cli("calls", "show", str(ids["c1"]), as_user=SUP), f"no call {ids['c1']}")
        refused(cli("calls", "flag", str(ids["c1"]), as_user=SUP), f"no call {ids['c1']}")


def test_supervisor_granted_a_group_sees_its_agents_calls(history):
    cli, ids = history
    ok(cli("groups", "create", "Team"))
    ok(cli("groups", "add", "Team", BOB))
    ok(cli("users", "role", SUP, "supervisor", "--scope", "group:Team"))
    assert names(listed(cli, as_user=SUP), ids) == ["c6", "c3"]


def test_own_logs_only_limits_to_own_calls(history):
    cli, ids = history
    ok(cli("users", "role", ANA, "admin"))
    ok(cli("users", "perms", ANA, "own_logs_only=true"))
    assert names(listed(cli, as_user=ANA), ids) == ["c4", "c1", "c0"]


def test_agents_without_the_logs_area_are_refused(history):
    cli, _ = history
    refused(cli("calls", "list", as_user=BOB), BOB, "logs")


# ---------------------------------------------------------------- show, tag, flag


def test_show_has_attempts_outcomes_tags_and_flags(history):
    cli, ids = history
    shown = ok(cli("calls", "show", str(ids["c1"]), "--json")).json()
    assert [(a["agent"], a["outcome"]) for a in shown["attempts"]] == [
        (ANA, "ANSWERED"), (BOB, "CALL_ANSWERED")]
    assert (shown["tags"], shown["recorded"], shown["flagged"]) == (["Sale"], False, False)
    assert shown["survey"] == []
    assert shown["answered_at"] == "2026-11-02T08:30:20Z" and shown["caller_country"] == "ES"
    assert "CALL_ANSWERED" in ok(cli("calls", "show", str(ids["c1"]))).stdout


def test_show_unknown_call_is_refused(history):
    cli, _ = history
    refused(cli("calls", "show", "9999"), "no call 9999")


def test_tag_adds_tags_up_to_the_account_maximum(history, unchanged):
    cli, ids = history
    c1 = str(ids["c1"])
    assert ok(cli("calls", "tag", c1, "urgent", "Sale", "--json")).json() == {
        "id": ids["c1"], "tags": ["Sale", "Urgent"]}
    ok(cli("tags", "max", "2"))
    with unchanged():
        refused(cli("calls", "tag", c1, "Callback"), f"call {c1} would have 3 tags", "at most 2")
        refused(cli("calls", "tag", c1, "Nope"), "'Nope'")
        refused(cli("calls", "tag", "9999", "Sale"), "no call 9999")
    tagged = listed(cli, "--tag", "Urgent")
    assert names(tagged, ids) == ["c3", "c1"] and tagged[1]["tags"] == ["Sale", "Urgent"]


def test_an_agent_tags_own_calls_only_with_the_permission(history, unchanged):
    cli, ids = history
    assert ok(cli("calls", "tag", str(ids["c4"]), "Callback", "--json", as_user=ANA)).json()["tags"] == [
        "Callback"]
    with unchanged():
        refused(cli("calls", "tag", str(ids["c3"]), "Callback", as_user=ANA), f"no call {ids['c3']}")
    ok(cli("users", "perms", ANA, "tag_calls=false"))
    with unchanged():
        refused(cli("calls", "tag", str(ids["c4"]), "Sale", as_user=ANA), ANA, "tag_calls")


def test_flag_and_unflag(history, unchanged):
    cli, ids = history
    c2 = str(ids["c2"])
    assert ok(cli("calls", "flag", c2, "--json")).json() == {"id": ids["c2"], "flagged": True}
    assert ok(cli("calls", "show", c2, "--json")).json()["flagged"] is True
    ok(cli("calls", "flag", c2, "--off"))
    assert ok(cli("calls", "show", c2, "--json")).json()["flagged"] is False
    with unchanged():
        refused(cli("calls", "flag", "9999"), "no call 9999")


def test_daylight_saving_change_hours_follow_local_time(cli, db_url):
    """Paris leaves summer time on 2026-10-25: 09:00 local is 07:00 UTC before, 08:00 UTC after."""
    build_center(cli)
    record_all(engine_for(db_url), [
        call("before", at(24, 7, 30, month=10), IN, DIRECT, "+33622222222", type_=MISSED, wait=5),
        call("after_early", at(26, 7, 30, month=10), IN, DIRECT, "+33622222222", type_=MISSED, wait=5),
        call("after", at(26, 8, 30, month=10), IN, DIRECT, "+33622222222", type_=MISSED, wait=5),
        call("long_day", at(25, 22, 30, month=10), IN, DIRECT, "+33622222222", type_=MISSED, wait=5),
    ])
    rows = ok(cli("calls", "list", "--period", "2026-10-24..2026-10-26", "--hours", "09:00-10:00",
                  "--json")).json()
    assert [row["started_at"] for row in rows] == ["2026-10-26T08:30:00Z", "2026-10-24T07:30:00Z"]
    # the 25-hour day of the change ends at 23:00 UTC
    day = ok(cli("calls", "list", "--period", "2026-10-25..2026-10-25", "--json")).json()
    assert [row["started_at"] for row in day] == ["2026-10-25T22:30:00Z"]
