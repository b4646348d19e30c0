"""`ringtui engine status` against a live feed on 127.0.0.1 (served from a thread)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringtui.cli import app
from ringtui.engine.feed import Feed
from ringtui.engine.token import issue_token

SNAPSHOT = {
    "agents": [{"email": "ana@acme.test", "name": "Ana", "state": "snooze", "reason": "Lunch",
                "interface": "sip", "since": "2026-11-02T09:00:00Z"}],
    "waiting": [{"call_id": "c1", "from_number": "+34612345678", "ivr": "Standard", "wait_s": 12.5,
                 "vip": True}],
    "calls": [],
}


@pytest.fixture
def engine_feed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    token_file = tmp_path / "engine.token"
    token = issue_token(token_file)
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(token_file))
    loop = asyncio.new_event_loop()
    feed = Feed(lambda: SNAPSHOT, lambda t: frozenset({"feed:read"}) if t == token else None)
    server = loop.run_until_complete(feed.serve("127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"ws://127.0.0.1:{port}"

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.close()


def status(*args: str):
    return CliRunner().invoke(app, ["engine", "status", *args])


def test_status_json_is_the_snapshot(engine_feed):
    result = status("--engine", engine_feed, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["protocol"] == 1
    assert document["agents"] == SNAPSHOT["agents"] and document["waiting"] == SNAPSHOT["waiting"]


def test_status_tables_for_people(engine_feed):
    result = status("--engine", engine_feed)
    assert result.exit_code == 0 and "ana@acme.test" in result.stdout and "Lunch" in result.stdout


def test_wrong_token_and_no_engine_are_clear_errors(engine_feed):
    refused = status("--engine", engine_feed, "--token", "guess")
    assert refused.exit_code == 1 and "refused the token" in refused.stderr
    nobody = status("--engine", "ws://127.0.0.1:9")
    assert nobody.exit_code == 1 and "no engine answers at ws://127.0.0.1:9" in nobody.stderr


def test_a_token_file_others_can_read_is_refused(engine_feed, tmp_path):
    (tmp_path / "engine.token").chmod(0o644)
    result = status("--engine", engine_feed)
    assert result.exit_code == 1 and "chmod 600" in result.stderr
