"""`ringtui init` and `ringtui demo`."""

from __future__ import annotations

from tests.conftest import ADMIN, ok, refused


def test_init_creates_the_account_and_its_super_admin(cli):
    account = ok(cli("init", "--company", "Acme", "--plan", "smart", "--admin", ADMIN,
                     "--country", "es", "--json")).json()
    assert (account["company"], account["plan"], account["country"]) == ("Acme", "smart", "ES")
    assert account["timezone"] == "Europe/Madrid"
    users = ok(cli("users", "list", "--json")).json()
    assert [(u["email"], u["role"], u["status"]) for u in users] == [(ADMIN, "super_admin", "active")]


def test_init_twice_is_refused(account, unchanged):
    with unchanged():
        refused(account("init", "--company", "Other"), "already holds an account")


def test_init_bad_values_are_named(cli):
    refused(cli("init", "--plan", "gold"), "'gold'", "smart, business, advanced")
    refused(cli("init", "--country", "XX"), "'XX'")
    refused(cli("init", "--admin", "nobody"), "'nobody'")
    refused(cli("users", "list"), "ringtui init")  # nothing was created


def test_demo_seeds_a_realistic_account_once(cli):
    first = ok(cli("demo", "--no-engine", "--history-days", "0", "--json")).json()
    assert first["users"] == 40 and first["groups"] == 5 and first["ivrs"] == 3
    assert {"admin", "accountant", "technical", "supervisor", "none"} <= set(first["users_by_role"])
    assert first["snoozed_users"] > 0
    assert set(first["numbers_by_country"]) == {"FR", "ES", "GB"}
    assert (first["tags"], first["contacts"]) == (8, 200)
    assert first["numbers_assigned"] == 43  # 39 users, 3 IVRs, 1 conference
    again = ok(cli("demo", "--no-engine", "--json"))
    assert again.json()["users"] == 40
    assert "already holds an account" in again.stderr
    assert first["calls_recorded"] == 0


def test_demo_supervisors_are_scoped(cli):
    ok(cli("demo", "--no-engine", "--history-days", "0"))
    supervisors = [u for u in ok(cli("users", "list", "--json")).json() if u["role"] == "supervisor"]
    shown = ok(cli("users", "show", supervisors[0]["email"], "--json")).json()
    assert any(s.startswith("group:") for s in shown["scopes"])
    seen = ok(cli("users", "list", "--json", as_user=supervisors[0]["email"])).json()
    assert 0 < len(seen) < 40


def test_init_demo_writes_simulated_history(cli):
    summary = ok(cli("init", "--demo", "--history-days", "2", "--json")).json()
    assert summary["plan"] == "advanced" and summary["calls_recorded"] > 50


def test_demo_runs_the_engine_with_simulated_traffic_then_stops_cleanly(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    result = ok(cli("demo", "--history-days", "0", "--ws", "127.0.0.1:0", "--speed", "120", "--for", "3"))
    assert "Simulated traffic at 120x" in result.stderr and "stopped" in result.stderr
    after = ok(cli("demo", "--no-engine", "--json")).json()
    assert after["calls_recorded"] > 0  # the live traffic was recorded
    assert not (tmp_path / "engine.token").exists()  # the token goes with the engine
