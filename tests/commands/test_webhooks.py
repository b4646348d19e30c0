"""`ringtui webhooks ...` through the CLI, happy and refused paths, on both databases."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from ringtui.cli import RootGroup, root
from ringtui.cli import app as ringtui_app
from ringtui.commands import webhooks as webhooks_commands
from tests.conftest import ADMIN, CliRun, Result, database_state, ok, refused
from tests.engine.test_webhooks import Receiver

URL = "https://crm.example.com/ringtui"


def _application() -> typer.Typer:
    """The real root app, plus `webhooks` until cli.py registers it."""
    if any(group.name == webhooks_commands.NAME for group in ringtui_app.registered_groups):
        return ringtui_app
    local = typer.Typer(cls=RootGroup, pretty_exceptions_enable=False, no_args_is_help=True)
    local.callback()(root)
    local.add_typer(webhooks_commands.app, name=webhooks_commands.NAME, help=webhooks_commands.HELP)
    return local


def webhooks_cli(db_url: str) -> CliRun:
    """Run `ringtui webhooks ARGS...` in-process against the test database."""
    application, runner = _application(), CliRunner()

    def run(*args: str, as_user: str | None = None) -> Result:
        prefix = ["--db", db_url] + (["--as", as_user] if as_user else [])
        result = runner.invoke(application, [*prefix, webhooks_commands.NAME, *args], catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def hooks(account: CliRun, db_url: str) -> CliRun:
    return webhooks_cli(db_url)


# ---------------------------------------------------------------- add and list


def test_add_shows_the_secret_once_and_list_never(hooks, db_url):
    added = ok(hooks("add", URL, "--events", "missed_call,voicemail", "--json")).json()
    assert re.fullmatch(r"[0-9a-f]{64}", added["secret"])
    assert (added["url"], added["events"], added["active"]) == (URL, ["missed_call", "voicemail"], True)
    assert added["created_by"] == ADMIN
    listed = ok(hooks("list", "--json")).json()
    assert listed == [{key: value for key, value in added.items() if key != "secret"}]
    assert {"id", "url", "events", "active", "last_status", "last_delivery_at"} <= set(listed[0])
    assert added["secret"] not in ok(hooks("list", "--csv")).stdout
    assert added["secret"] not in ok(hooks("list")).stdout
    audit = database_state(db_url)["audit_entry"]
    assert any("webhook.add" in row for row in audit)
    assert added["secret"] not in repr(audit)


def test_events_are_normalised_and_all_stands_alone(hooks):
    one = ok(hooks("add", URL, "--events", " Call_Ended, incoming_call,call_ended", "--json")).json()
    assert one["events"] == ["incoming_call", "call_ended"]
    every = ok(hooks("add", URL + "/all", "--events", "missed_call,all", "--json")).json()
    assert every["events"] == ["all"]
    table = ok(hooks("list")).stdout
    assert URL in table and "incoming_call, call_ended" in table


def test_add_without_events_is_a_usage_error(hooks, unchanged):
    with unchanged():
        assert hooks("add", URL).exit_code == 2


@pytest.mark.parametrize("url", ["ftp://files.example.com/in", "https://", "crm.example.com/hook",
                                 "https://crm.example.com:99999/x", "https://crm.example.com/a b"])
def test_a_bad_url_is_refused(hooks, unchanged, url):
    with unchanged():
        refused(hooks("add", url, "--events", "all"), repr(url.strip()), "http")


def test_an_unknown_event_is_refused_naming_it_and_the_known_ones(hooks, unchanged):
    with unchanged():
        refused(hooks("add", URL, "--events", "missed_call,hangup"), "'hangup'", "incoming_call", "all")
        refused(hooks("add", URL, "--events", " , "), "at least one event")


def test_the_same_url_twice_is_refused(hooks, unchanged):
    first = ok(hooks("add", URL, "--events", "all", "--json")).json()
    with unchanged():
        refused(hooks("add", URL, "--events", "voicemail"), URL, f"id {first['id']}", "already exists")


# ---------------------------------------------------------------- remove


def test_remove_forgets_the_webhook(hooks, db_url):
    first = ok(hooks("add", URL, "--events", "all", "--json")).json()
    second = ok(hooks("add", URL + "/2", "--events", "voicemail", "--json")).json()
    removed = ok(hooks("remove", str(first["id"]), "--json")).json()
    assert removed["url"] == URL and "secret" not in removed
    assert [h["id"] for h in ok(hooks("list", "--json")).json()] == [second["id"]]
    assert any("webhook.remove" in row for row in database_state(db_url)["audit_entry"])


def test_an_unknown_id_is_refused(hooks, unchanged):
    known = ok(hooks("add", URL, "--events", "all", "--json")).json()["id"]
    with unchanged():
        refused(hooks("remove", "99"), "no webhook with id 99", f"webhook ids: {known}")
        refused(hooks("test", "99"), "no webhook with id 99")


# ---------------------------------------------------------------- who may


def test_a_technical_user_may_manage_webhooks(account, hooks):
    ok(account("users", "add", "tech@acme.test", "--role", "technical"))
    added = ok(hooks("add", URL, "--events", "all", "--json", as_user="tech@acme.test")).json()
    assert added["created_by"] == "tech@acme.test"
    assert len(ok(hooks("list", "--json", as_user="tech@acme.test")).json()) == 1
    ok(hooks("remove", str(added["id"]), as_user="tech@acme.test"))


def test_a_supervisor_may_not_touch_webhooks(account, hooks, unchanged):
    ok(account("users", "add", "sup@acme.test", "--role", "supervisor"))
    known = ok(hooks("add", URL, "--events", "all", "--json")).json()["id"]
    with unchanged():
        refused(hooks("add", URL + "/2", "--events", "all", as_user="sup@acme.test"),
                "sup@acme.test", "supervisor", "developer")
        refused(hooks("list", as_user="sup@acme.test"), "supervisor", "developer")
        refused(hooks("remove", str(known), as_user="sup@acme.test"), "supervisor", "developer")
        refused(hooks("test", str(known), as_user="sup@acme.test"), "supervisor", "developer")


# ---------------------------------------------------------------- test


def test_test_sends_a_signed_test_event_and_prints_the_status(hooks):
    with Receiver() as receiver:
        added = ok(hooks("add", receiver.url, "--events", "missed_call", "--json")).json()
        receiver.secret = added["secret"]
        result = ok(hooks("test", str(added["id"]), "--json")).json()
        human = ok(hooks("test", str(added["id"])))
    assert (result["status"], result["url"]) == (200, receiver.url)
    assert "200" in human.stdout and "answered HTTP 200" in human.stderr
    first = receiver.requests[0]
    assert first.signed is True and first.headers["x-ringtui-event"] == "test"
    body = first.json()
    assert (body["event"], body["protocol"], body["id"]) == ("test", 1, result["delivery"])
    [listed] = ok(hooks("list", "--json")).json()
    assert listed["last_status"] == "200" and listed["last_delivery_at"] is not None


def test_test_against_a_failing_receiver_exits_1_naming_url_and_error(hooks, unchanged):
    with Receiver((500,)) as failing:
        known = ok(hooks("add", failing.url, "--events", "all", "--json")).json()["id"]
        with unchanged():
            refused(hooks("test", str(known)), failing.url, "HTTP 500")
    assert len(failing.requests) == 1  # the test is sent once, never retried


def test_test_against_nobody_listening_exits_1_naming_url_and_error(hooks, unchanged):
    with Receiver() as closed:
        url = closed.url  # its port is closed again on leaving the block
    known = ok(hooks("add", url, "--events", "all", "--json")).json()["id"]
    with unchanged():
        refused(hooks("test", str(known)), url, "ConnectError")


def test_test_that_times_out_exits_1(hooks, unchanged):
    with Receiver(hang=True) as dead:
        known = ok(hooks("add", dead.url, "--events", "all", "--json")).json()["id"]
        with unchanged():
            refused(hooks("test", str(known), "--timeout", "0.2"), dead.url, "ReadTimeout")
