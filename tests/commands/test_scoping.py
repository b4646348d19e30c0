"""Who sees which logs (U4 call_logs / own_logs_only / recordings, U7 supervisor scopes), the same
rule for calls, missed calls, statistics and exports (history of tests/commands/test_calls.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from ringtui.db import engine_for
from ringtui.models import CallRecord
from tests.commands import test_calls as base
from tests.commands import test_export
from tests.commands.test_calls import ANA, BOB, SUP, listed, names
from tests.conftest import ok, refused

base.register_commands()
test_export.register_command()
history = base.history


def _seen(cli, ids, as_user: str) -> dict[str, object]:
    """What `as_user` sees of the history through each command."""
    exported = ok(cli("export", "calls", "--format", "json", as_user=as_user)).json()
    missed = ok(cli("missed", "list", "--json", as_user=as_user)).json()
    figures = ok(cli("stats", "calls", "--json", as_user=as_user)).json()
    board = ok(cli("stats", "leaderboard", "--json", as_user=as_user)).json()
    return {"calls": names(listed(cli, as_user=as_user), ids), "export": names(exported, ids),
            "missed": names(missed, ids), "total_calls": figures["total_calls"],
            "board": {row["agent"]: row["answered"] for row in board}}


def test_own_logs_only_everywhere(history):
    cli, ids = history
    ok(cli("users", "role", ANA, "supervisor", "--scope", "ivr:Support", "--scope", "ivr:Sales"))
    ok(cli("users", "perms", ANA, "statistics_tab=true", "call_logs=own"))
    assert _seen(cli, ids, ANA) == {"calls": ["c4", "c1", "c0"], "export": ["c4", "c1", "c0"],
                                    "missed": [], "total_calls": 3, "board": {ANA: 2, BOB: 0}}
    ok(cli("users", "perms", ANA, "call_logs=all", "own_logs_only=true"))
    assert _seen(cli, ids, ANA)["export"] == ["c4", "c1", "c0"]


def test_call_logs_groups_sees_the_calls_of_the_users_groups(history):
    cli, ids = history
    ok(cli("users", "role", ANA, "admin"))
    ok(cli("users", "perms", ANA, "call_logs=groups"))
    assert _seen(cli, ids, ANA)["calls"] == ["c4", "c1", "c0"]  # in no group yet: own calls
    ok(cli("groups", "create", "Team"))
    ok(cli("groups", "add", "Team", ANA, BOB))
    seen = _seen(cli, ids, ANA)
    assert seen["calls"] == ["c6", "c3", "c4", "c1", "c0"]  # ana's and bob's, not the unanswered IVR calls
    assert seen["export"] == seen["calls"] and seen["total_calls"] == 5
    assert seen["board"] == {ANA: 2, BOB: 1}


def test_call_logs_all_for_an_admin_sees_everything(history):
    cli, ids = history
    ok(cli("users", "role", ANA, "admin"))
    seen = _seen(cli, ids, ANA)
    assert seen["calls"] == ["c6", "c5", "c3", "c4", "c2", "c1", "c0"] and seen["missed"] == ["c5", "c2"]


def test_call_logs_none_is_refused_everywhere(history, unchanged):
    cli, ids = history
    ok(cli("users", "role", ANA, "admin"))
    ok(cli("users", "perms", ANA, "call_logs=none"))
    with unchanged():
        for args in (("calls", "list"), ("missed", "list"), ("stats", "calls"), ("stats", "leaderboard"),
                     ("export", "calls"), ("calls", "show", str(ids["c1"]))):
            refused(cli(*args, as_user=ANA), ANA, "call_logs=none")


def test_supervisor_sees_only_granted_ivrs_in_stats_missed_and_exports(history):
    cli, ids = history
    ok(cli("users", "perms", SUP, "statistics_tab=true"))
    assert _seen(cli, ids, SUP) == {"calls": ["c5", "c3"], "export": ["c5", "c3"], "missed": ["c5"],
                                    "total_calls": 2, "board": {ANA: 0, BOB: 1}}


def test_supervisor_with_own_logs_only_sees_own_calls_within_scope(history):
    cli, ids = history
    ok(cli("users", "perms", SUP, "own_logs_only=true"))
    assert names(listed(cli, as_user=SUP), ids) == []


# ---------------------------------------------------------------- recordings (U4)


def _record_everything(db_url: str) -> None:
    with engine_for(db_url).begin() as connection:
        connection.execute(update(CallRecord).values(recorded=True))


def _recording(cli, call_id: int, as_user: str | None = None) -> tuple[object, object]:
    shown = ok(cli("calls", "show", str(call_id), "--json", as_user=as_user)).json()
    return shown["recorded"], shown["recording_visible"]


def test_recording_metadata_follows_the_recordings_permission(history, db_url):
    cli, ids = history
    _record_everything(db_url)
    assert _recording(cli, ids["c1"]) == (True, True)  # the super admin hears everything
    ok(cli("users", "role", ANA, "supervisor", "--scope", "ivr:Support", "--scope", "ivr:Sales"))
    assert _recording(cli, ids["c1"], ANA) == (True, True)    # default recordings=own: her call
    assert _recording(cli, ids["c3"], ANA) == (None, False)   # bob's
    assert _recording(cli, ids["c2"], ANA) == (None, False)   # nobody's
    ok(cli("groups", "create", "Team"))
    ok(cli("groups", "add", "Team", ANA, BOB))
    ok(cli("users", "perms", ANA, "recordings=groups"))
    assert _recording(cli, ids["c3"], ANA) == (True, True)
    ok(cli("users", "perms", ANA, "recordings=none"))
    assert _recording(cli, ids["c1"], ANA) == (None, False)
    ok(cli("users", "perms", ANA, "recordings=all"))
    assert _recording(cli, ids["c2"], ANA) == (True, True)


# ---------------------------------------------------------------- SMS and meetings: the same rule


@pytest.fixture
def messages(cli, db_url):
    from tests.commands.test_stats_messages import seed_messages

    base.build_center(cli)
    seed_messages(db_url)
    return cli


def _sms_agents(cli, as_user: str) -> list[str | None]:
    rows = ok(cli("export", "sms", "--format", "json", as_user=as_user)).json()
    return sorted(str(row["agent"]) for row in rows)


def test_sms_and_meetings_follow_call_logs_groups_own_and_none(messages, unchanged):
    cli = messages
    ok(cli("users", "role", ANA, "admin"))
    assert len(_sms_agents(cli, ANA)) == 8
    ok(cli("users", "perms", ANA, "call_logs=own"))
    assert _sms_agents(cli, ANA) == [ANA] * 3
    assert ok(cli("stats", "sms", "--json", as_user=ANA)).json()["total_sms"] == 3
    assert ok(cli("stats", "meet", "--json", as_user=ANA)).json()["total_meetings"] == 2
    ok(cli("groups", "create", "Team"))
    ok(cli("groups", "add", "Team", ANA, BOB))
    ok(cli("users", "perms", ANA, "call_logs=groups"))
    assert _sms_agents(cli, ANA) == [ANA] * 3 + [BOB] * 2
    assert ok(cli("stats", "meet", "--json", as_user=ANA)).json()["total_meetings"] == 3
    ok(cli("users", "perms", ANA, "call_logs=none"))
    with unchanged():
        for args in (("export", "sms"), ("export", "meet"), ("stats", "sms"), ("stats", "meet"),
                     ("stats", "heatmap", "--channel", "sms")):
            refused(cli(*args, as_user=ANA), ANA, "call_logs=none")


def test_supervisor_sees_the_sms_of_granted_groups_agents(messages):
    cli = messages
    ok(cli("groups", "create", "Team"))
    ok(cli("groups", "add", "Team", BOB))
    ok(cli("users", "role", SUP, "supervisor", "--scope", "group:Team"))
    assert _sms_agents(cli, SUP) == [BOB] * 2
    assert ok(cli("stats", "meet", "--json", as_user=SUP)).json()["leaderboard"] == [
        {"agent": BOB, "meetings": 1, "duration_s": 3600.0}]
