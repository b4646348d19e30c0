"""The live feed with a real websockets client on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from ringtui.engine.core.events import AgentStateChanged
from ringtui.engine.feed import ControlRefused, Feed
from ringtui.vocab import AgentState

TOKENS = {"owner": frozenset({"feed:read", "feed:control"}), "viewer": frozenset({"feed:read"}),
          "billing": frozenset({"calls:read"})}
SNAPSHOT = {"agents": [{"email": "ana@acme.test", "state": "free"}], "waiting": [], "calls": []}


def control(message, rights):
    if message["action"] == "snooze":
        if "agent" not in message:
            raise ControlRefused("snooze needs an agent")
        return {"agent": message["agent"]}
    raise ControlRefused(f"unknown action {message['action']!r}")


async def started_feed():
    feed = Feed(lambda: SNAPSHOT, TOKENS.get, control)
    server = await feed.serve("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return feed, server, f"ws://127.0.0.1:{port}"


async def receive(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=5))


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, timeout=20))


def test_hello_snapshot_then_events_in_order():
    async def scenario():
        feed, server, url = await started_feed()
        async with connect(url, additional_headers={"Authorization": "Bearer viewer"}) as ws:
            hello = await receive(ws)
            assert (hello["type"], hello["protocol"], hello["rights"]) == ("hello", 1, ["feed:read"])
            snapshot = await receive(ws)
            assert snapshot["type"] == "snapshot" and snapshot["agents"] == SNAPSHOT["agents"]
            while feed.clients == 0:
                await asyncio.sleep(0.01)
            at = datetime(2026, 11, 2, 9, tzinfo=UTC)
            feed.publish(AgentStateChanged(at=at, email="ana@acme.test", state=AgentState.SNOOZE,
                                           reason="Lunch"))
            feed.publish({"type": "kpi", "service_level": 0.9})
            first, second = await receive(ws), await receive(ws)
            assert (first["type"], first["state"], first["reason"], first["at"]) == (
                "agent_state", "snooze", "Lunch", "2026-11-02T09:00:00Z")
            assert second["type"] == "kpi" and second["seq"] == first["seq"] + 1
        server.close()
        await server.wait_closed()

    run(scenario())


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer billing"}])
def test_clients_without_a_feed_token_are_refused(headers):
    async def scenario():
        _feed, server, url = await started_feed()
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, additional_headers=headers):
                pass
        assert refused.value.response.status_code == 401
        server.close()
        await server.wait_closed()

    run(scenario())


def test_token_in_the_query_string_is_accepted():
    async def scenario():
        _feed, server, url = await started_feed()
        async with connect(url + "/?token=viewer") as ws:
            assert (await receive(ws))["type"] == "hello"
        server.close()
        await server.wait_closed()

    run(scenario())


def test_control_messages_are_answered_and_bad_ones_do_not_disturb():
    async def scenario():
        feed, server, url = await started_feed()
        async with connect(url, additional_headers={"Authorization": "Bearer owner"}) as ws:
            await receive(ws)
            await receive(ws)
            for message, expected in [
                ("not json", ("error", "not JSON")),
                ("[1, 2]", ("error", '"action"')),
                (json.dumps({"action": "fly"}), ("error", "unknown action 'fly'")),
                (json.dumps({"action": "snooze"}), ("error", "needs an agent")),
                (json.dumps({"action": "snooze", "agent": "ana@acme.test"}), ("ack", None)),
                (json.dumps({"action": "ping"}), ("ack", None)),
            ]:
                await ws.send(message)
                reply = await receive(ws)
                assert reply["type"] == expected[0], (message, reply)
                if expected[1]:
                    assert expected[1] in reply["error"]
            feed.publish({"type": "kpi"})
            assert (await receive(ws))["type"] == "kpi"  # still streaming after the bad messages
        server.close()
        await server.wait_closed()

    run(scenario())


def test_a_viewer_may_not_control():
    async def scenario():
        _feed, server, url = await started_feed()
        async with connect(url, additional_headers={"Authorization": "Bearer viewer"}) as ws:
            await receive(ws)
            await receive(ws)
            await ws.send(json.dumps({"action": "snooze", "agent": "ana@acme.test"}))
            reply = await receive(ws)
            assert reply["type"] == "error" and "feed:control" in reply["error"]
        server.close()
        await server.wait_closed()

    run(scenario())


def test_a_client_that_stops_reading_is_dropped_not_waited_for():
    async def scenario():
        feed, server, url = await started_feed()
        async with connect(url, additional_headers={"Authorization": "Bearer viewer"}, max_queue=1,
                           close_timeout=1) as ws:
            await receive(ws)
            while feed.clients == 0:
                await asyncio.sleep(0.01)
            started = asyncio.get_running_loop().time()
            for n in range(50_000):
                feed.publish({"type": "kpi", "n": n})
            assert asyncio.get_running_loop().time() - started < 2.0  # publish never waits for the client
            assert feed.dropped_clients == 1 and feed.clients == 0
        server.close()
        await server.wait_closed()

    run(scenario())
