"""The running engine picks up a campaign launched from the CLI within about a second, sends it,
and tells the live feed how it progresses; a pause from the CLI stops it."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect

from ringtui.config import load_settings
from tests.conftest import ok
from tests.engine.conftest import running_engine


@pytest.fixture
def sms(account, tmp_path, monkeypatch):
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    ok(account("campaign", "sms", "request-access"))
    ok(account("campaign", "sms", "approve", "boss@acme.test"))
    ok(account("campaign", "sms", "create", "Promo", "--sender", "Acme", "--country", "FR", "--message", "Hi",
               "--to", "0612345678,0698765432"))
    return account


def test_launch_from_the_cli_is_sent_by_the_running_engine_and_shown_in_the_feed(sms, db_url):
    settings = load_settings(database_url=db_url)

    async def scenario() -> float:
        async with running_engine(settings) as (_, url):
            token = settings.token_file.read_text().strip()
            async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
                await asyncio.to_thread(sms, "campaign", "launch", "Promo")
                launched = time.monotonic()
                async with asyncio.timeout(5):
                    while True:
                        message = json.loads(await ws.recv())
                        if message["type"] == "campaign_progress":
                            break
                took = time.monotonic() - launched
                assert (message["campaign"], message["sent"]) == ("Promo", 2)
        return took

    took = asyncio.run(asyncio.wait_for(scenario(), timeout=30))
    assert took < 2.0, f"the engine took {took:.2f} s to start a launched campaign"
    shown = ok(sms("campaign", "show", "Promo", "--json")).json()
    assert (shown["status"], shown["sms_sent"]) == ("finished", 2)
