"""The engine process end to end: core, recorder, feed and configuration reload together,
on both databases; and crash recovery of a real `ringtui engine run` killed with SIGKILL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from ringtui.config import load_settings
from ringtui.db import engine_for
from ringtui.engine.runtime import EngineOptions, EngineRuntime
from tests.conftest import ok
from tests.engine.conftest import running_engine

RINGTUI = Path(sys.executable).with_name("ringtui")


@pytest.fixture
def center_account(account, tmp_path, monkeypatch):
    """Two agents in Sales, an IVR ringing them, a number on the IVR."""
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    ok(account("groups", "create", "Sales"))
    for email in ("ana@acme.test", "bob@acme.test"):
        ok(account("users", "add", email, "--group", "Sales"))
    ok(account("ivr", "create", "Standard"))
    ok(account("ivr", "step", "add", "Standard", "--type", "ring", "--group", "Sales",
               "--ring-seconds", "20"))
    offer = ok(account("numbers", "search", "--country", "FR", "--format", "national", "--limit", "1",
                       "--json")).json()[0]["number"]
    ok(account("numbers", "add", offer))
    ok(account("numbers", "assign", offer, "--ivr", "Standard"))
    return account, offer


async def receive_until(ws, wanted: str, timeout: float = 5.0, **fields: str) -> dict:
    """The next message of type `wanted` whose fields have the given values."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == wanted and all(message.get(k) == v for k, v in fields.items()):
                return message


def test_calls_flow_to_the_feed_and_the_records_and_cli_changes_reload(center_account, db_url):
    cli, number = center_account
    settings = load_settings(database_url=db_url)

    async def scenario() -> None:
        async with running_engine(settings) as (runtime, url):
            token = settings.token_file.read_text().strip()
            with pytest.raises(InvalidStatus):
                async with connect(url):
                    pass
            async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
                snapshot = await receive_until(ws, "snapshot")
                assert {a["email"]: a["state"] for a in snapshot["agents"]}["ana@acme.test"] == "off"
                runtime.apply(runtime.center.agent_connected("ana@acme.test", "sip"))
                assert (await receive_until(ws, "agent_state"))["state"] == "free"
                runtime.apply(runtime.center.call_arrived("call-1", "+34612345678", number))
                assert (await receive_until(ws, "call_ringing"))["agents"] == ["ana@acme.test"]
                runtime.apply(runtime.center.agent_answered("call-1", "ana@acme.test"))
                await receive_until(ws, "call_answered")
                runtime.apply(runtime.center.caller_hung_up("call-1"))
                ended = await receive_until(ws, "call_ended")
                assert ended["call"]["type"] == "answered" and ended["call"]["agent"] == "ana@acme.test"
                # a change made with the CLI while the engine runs takes effect within a second or so
                await asyncio.to_thread(cli, "users", "snooze", "ana@acme.test", "--reason", "Doctor")
                changed = await receive_until(ws, "agent_state", timeout=5, state="snooze")
                assert (changed["email"], changed["reason"]) == ("ana@acme.test", "Doctor")

    asyncio.run(asyncio.wait_for(scenario(), timeout=30))
    with engine_for(db_url).connect() as connection:
        row = connection.execute(text(
            "SELECT type, ended_by, caller_country FROM call_record WHERE call_id = 'call-1'")).one()
        assert tuple(row) == ("answered", "customer", "ES")
        attempts = connection.execute(text("SELECT outcome FROM ring_attempt")).scalars().all()
        assert "ANSWERED" in attempts


def test_a_feed_client_transfers_a_call_and_the_record_has_the_transfer(center_account, db_url):
    """The feed's `transfer` action: refused with the core's words for a bad target; done, the call
    shows with its new agent and its record closes with one call_transfer row."""
    _, number = center_account
    settings = load_settings(database_url=db_url)

    async def scenario() -> None:
        async with running_engine(settings) as (runtime, url):
            token = settings.token_file.read_text().strip()
            async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
                await receive_until(ws, "snapshot")
                runtime.apply(runtime.center.agent_connected("ana@acme.test", "sip"))
                runtime.apply(runtime.center.call_arrived("call-t", "+34612345678", number))
                await receive_until(ws, "call_ringing")
                runtime.apply(runtime.center.agent_answered("call-t", "ana@acme.test"))
                await receive_until(ws, "call_answered")
                await ws.send(json.dumps({"action": "transfer", "call_id": "call-t", "agent": "ana@acme.test",
                                          "target": "0612345678"}))
                error = await receive_until(ws, "error")
                assert "'0612345678': not an agent's e-mail nor a number in E.164 form" in error["error"]
                runtime.apply(runtime.center.agent_connected("bob@acme.test", "sip"))
                await ws.send(json.dumps({"action": "transfer", "call_id": "call-t", "agent": "ana@acme.test",
                                          "target": "bob@acme.test"}))
                transferred = await receive_until(ws, "call_transferred")
                assert (transferred["by"], transferred["to_agent"]) == ("ana@acme.test", "bob@acme.test")
                ack = await receive_until(ws, "ack", action="transfer")
                assert ack["target"] == "bob@acme.test"
                runtime.apply(runtime.center.agent_answered("call-t", "bob@acme.test"))
                await receive_until(ws, "call_answered", agent="bob@acme.test")
                [call] = runtime.snapshot()["calls"]
                assert (call["agent"], call["state"]) == ("bob@acme.test", "connected")
                runtime.apply(runtime.center.caller_hung_up("call-t"))
                await receive_until(ws, "call_ended")

    asyncio.run(asyncio.wait_for(scenario(), timeout=30))
    with engine_for(db_url).connect() as connection:
        rows = connection.execute(text(
            "SELECT u.email, t.answered, t.kind FROM call_transfer t JOIN app_user u ON u.id = t.to_user_id "
            "JOIN call_record r ON r.id = t.call_record_id WHERE r.call_id = 'call-t'")).all()
        assert [tuple(row) for row in rows] == [("bob@acme.test", True, "blind")]


def _open_and_total(db_url: str) -> tuple[int, int, int]:
    with engine_for(db_url).connect() as connection:
        return connection.execute(text(
            "SELECT COUNT(*) FILTER (WHERE ended_at IS NULL), COUNT(*), COUNT(DISTINCT call_id) "
            "FROM call_record")).one()


@pytest.mark.e2e
def test_a_killed_engine_loses_nothing_and_counts_nothing_twice(center_account, db_url, tmp_path):
    env = {**os.environ, "RINGTUI_DATABASE_URL": db_url, "RINGTUI_ENGINE_TOKEN_FILE": str(tmp_path / "t"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    engine = subprocess.Popen([str(RINGTUI), "engine", "run", "--ws", "127.0.0.1:0", "--simulate",
                               "--speed", "200", "--seed", "5"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and _open_and_total(db_url)[0] == 0:
            time.sleep(0.2)
        assert _open_and_total(db_url)[0] > 0, "the engine never had a call in progress"
    finally:
        engine.send_signal(signal.SIGKILL)
        engine.wait(timeout=10)
    open_before, total_before, _ = _open_and_total(db_url)
    restarted = subprocess.run([str(RINGTUI), "engine", "run", "--ws", "127.0.0.1:0", "--for", "1"],
                               env=env, capture_output=True, text=True, timeout=60)
    assert restarted.returncode == 0, restarted.stderr
    open_after, total_after, distinct = _open_and_total(db_url)
    assert open_after == 0 and total_after == total_before == distinct
    with engine_for(db_url).connect() as connection:
        restarted_rows = connection.execute(text(
            "SELECT COUNT(*) FROM call_record WHERE ended_by = 'engine_restart'")).scalar()
    assert restarted_rows >= open_before


def test_a_second_engine_on_the_same_address_fails_before_touching_the_records(center_account, db_url):
    _cli, number = center_account
    settings = load_settings(database_url=db_url)

    async def scenario() -> None:
        async with running_engine(settings) as (first, _):
            first.apply(first.center.agent_connected("ana@acme.test", "sip"))
            first.apply(first.center.call_arrived("call-open", "+34612345678", number))  # ringing Ana
            await first.flush()
            second = EngineRuntime(settings, EngineOptions(ws=f"127.0.0.1:{first.address[1]}"))
            with pytest.raises(OSError):
                await second.start()
            assert _open_and_total(db_url)[0] == 1  # the first engine's call is still in progress

    asyncio.run(asyncio.wait_for(scenario(), timeout=30))
