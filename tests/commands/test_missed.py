"""`ringtui missed ...`: the worklist of missed inbound calls (history of tests/commands/test_calls.py)."""

from __future__ import annotations

import csv
import io

from tests.commands import test_calls as base
from tests.commands.test_calls import ADMIN, ANA, LIST_FIELDS, NOV_2, SUP, names
from tests.conftest import ok, refused

base.register_commands()
history = base.history


def missed(cli, *args: str, as_user: str | None = None) -> list[dict]:
    return ok(cli("missed", "list", *args, "--json", as_user=as_user)).json()


def test_worklist_holds_inbound_calls_ended_unanswered(history):
    cli, ids = history
    rows = missed(cli)
    assert names(rows, ids) == ["c5", "c2"]  # c6 is outbound: not a missed call to process
    assert set(rows[0]) == LIST_FIELDS | {"processed_at", "processed_by"}
    assert (rows[1]["from_number"], rows[1]["type"]) == ("+33612345678", "missed")
    assert rows[1]["processed_by"] is None
    assert names(missed(cli, "--unprocessed", "--ivr", "Support"), ids) == ["c2"]
    assert missed(cli, "--processed") == []


def test_processing_records_channel_time_and_who(history):
    cli, ids = history
    done = ok(cli("missed", "process", str(ids["c2"]), "--channel", "SMS", "--json")).json()
    assert (done["id"], done["processed_channel"], done["processed_by"]) == (ids["c2"], "sms", ADMIN)
    assert names(missed(cli, "--processed"), ids) == ["c2"]
    assert names(missed(cli, "--unprocessed"), ids) == ["c5"]
    assert missed(cli, "--processed")[0]["processed_channel"] == "sms"
    figures = ok(cli("stats", "calls", "--period", NOV_2, "--json")).json()
    assert figures["unprocessed_missed"] == 1
    assert ok(cli("calls", "show", str(ids["c2"]), "--json")).json()["processed_by"] == ADMIN


def test_refused_processing_changes_nothing(history, unchanged):
    cli, ids = history
    ok(cli("missed", "process", str(ids["c5"]), "--channel", "call"))
    with unchanged():
        refused(cli("missed", "process", str(ids["c1"]), "--channel", "call"),
                f"call {ids['c1']} is an inbound answered call", "not a missed inbound call")
        refused(cli("missed", "process", str(ids["c6"]), "--channel", "call"), "an outbound missed call")
        refused(cli("missed", "process", str(ids["c5"]), "--channel", "sms"),
                f"call {ids['c5']} was already processed by call")
        refused(cli("missed", "process", str(ids["c2"]), "--channel", "fax"), "'fax'", "call, sms, email")
        refused(cli("missed", "process", "9999", "--channel", "sms"), "no call 9999")
        refused(cli("missed", "process", str(ids["c2"]), "--channel", "sms", as_user=SUP),
                f"no call {ids['c2']}")
        refused(cli("missed", "process", str(ids["c2"]), "--channel", "sms", as_user=ANA), ANA, "logs")


def test_processed_and_unprocessed_together_is_a_usage_error(history):
    cli, _ = history
    assert cli("missed", "list", "--processed", "--unprocessed").exit_code == 2


def test_supervisor_worklist_is_scoped(history):
    cli, ids = history
    assert names(missed(cli, as_user=SUP), ids) == ["c5"]
    assert "+4915112345678" in ok(cli("missed", "list", as_user=SUP)).stdout


def test_csv_has_every_key_of_the_json_rows(history):
    cli, _ = history
    rows = list(csv.DictReader(io.StringIO(ok(cli("missed", "list", "--csv")).stdout)))
    assert set(rows[0]) == LIST_FIELDS | {"processed_at", "processed_by"}
    assert [(row["from_number"], row["ended_by_customer"]) for row in rows] == [
        ("+4915112345678", "yes"), ("+33612345678", "yes")]
