"""The engine with Kamailio 5.6 beside it, on 127.0.0.1 ephemeral ports, on both databases:

- in front of the engine, as a SIPp caller's stateful outbound proxy (tm, record_route): the
  caller gets Kamailio's 100 Trying and the engine's answer with the proxy's Record-Route, and
  the ACK and BYE reach the engine through the proxy;
- as the carrier's SIP trunk of the engine's outbound calls: Kamailio challenges the engine's
  INVITE with a 407 (qop=auth, a fixed password in its cfg), sends 100 Trying without a To-tag,
  and record-routes the call to the called party (a SIPp UAS).

Each test asserts the call records the engine wrote.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from aiovoip.message import Response

from ringtui.engine.runtime import EngineRuntime
from ringtui.engine.sip.gateway import SipGateway
from tests.e2e import test_sip_calls as inbound
from tests.e2e import test_sip_outbound as outbound
from tests.e2e.conftest import TRUNK_PASSWORD, TRUNK_USER
from tests.e2e.kamailio import HERE, MISSING, installed, kamailio
from tests.e2e.test_sip_calls import center  # noqa: F401 - a fixture
from tests.e2e.test_sip_outbound import ana  # noqa: F401 - a fixture
from tests.e2e.test_sip_registrar import free_udp_port, with_engine

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("sipp") is None,
                                 reason="sipp is not on PATH (Debian sip-tester; .ci/run installs it)"),
              pytest.mark.skipif(installed() is None, reason=MISSING)]

REALM = "carrier.test"


def messages(cwd: Path) -> str:
    return "".join(path.read_text(errors="replace") for path in cwd.glob("*_messages.log"))


def test_a_caller_and_an_agent_behind_kamailio_and_the_dialogs_follow_its_record_route(
        center, db_url, tmp_path):  # noqa: F811 - the fixture
    """The agent's phone registers through Kamailio too: the engine's INVITE to it gets Kamailio's
    100 Trying without a To-tag (aiovoip gap 1) and its 200 a Record-Route, which routes the ACK
    and the BYE (gap 5); the caller's side likewise."""
    port = free_udp_port()
    seen: list[tuple[int, bool]] = []

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        spy_on_responses(gateway, seen)
        async with kamailio("proxy.cfg", tmp_path / "kamailio", port=port, engine_port=gateway.address[1]):
            phone = free_udp_port()
            code, errors = await inbound.sipp(
                "register.xml", tmp_path / "register", f"127.0.0.1:{port}", "-p", str(phone),
                "-au", center["username"], "-ap", center["password"], "-set", "user", center["username"],
                "-set", "expires", "3600")
            assert code == 0, errors
            agent = asyncio.create_task(inbound.sipp(str(HERE / "agent_answer.xml"), tmp_path / "agent",
                                                     "-p", str(phone), "-trace_msg"))
            await asyncio.sleep(0.5)
            code, errors = await inbound.sipp(
                str(HERE / "caller_talks.xml"), tmp_path / "caller", f"127.0.0.1:{port}",
                "-p", str(free_udp_port()), "-s", center["number"], "-set", "caller", inbound.CALLER,
                "-trace_msg")
            assert code == 0, errors
            code, errors = await agent
            assert code == 0, errors
            await outbound.settled(runtime)

    with_engine(db_url, body)
    assert (100, False) in seen and (200, True) in seen  # the agent's leg, through Kamailio
    to_caller = messages(tmp_path / "caller")
    assert "SIP/2.0 100 " in to_caller  # Kamailio's, at once
    answer = to_caller[to_caller.index("SIP/2.0 200 OK"):]
    assert f"Record-Route: <sip:127.0.0.1:{port};lr" in answer  # the engine copied the proxy's
    to_agent = messages(tmp_path / "agent")
    bye = to_agent[to_agent.index("BYE sip:"):]
    assert f"Via: SIP/2.0/UDP 127.0.0.1:{port}" in bye  # the engine's BYE came through Kamailio
    assert inbound.records(db_url) == [("answered", "customer", inbound.CALLER, center["number"], True)]
    assert inbound.attempts(db_url) == [(inbound.ANA, "ANSWERED")]


def spy_on_responses(gateway: SipGateway, seen: list[tuple[int, bool]]) -> None:
    """Note every response the engine gets as (status, has a To-tag), then hand it on."""
    heard = gateway.endpoint.on_response
    assert heard is not None

    def spy(response: Response) -> None:
        seen.append((response.status_code, ";tag=" in str(response.headers["To"])))
        heard(response)

    gateway.endpoint.on_response = spy


def run_through_kamailio_trunk(db_url: str, phone: dict[str, str], tmp_path: Path, monkeypatch,
                               password: str, agent_scenario: str | Path,
                               callee_scenario: str | None) -> list[tuple[int, bool]]:
    """Ana dials out; the engine's trunk is Kamailio, which forwards to a SIPp callee. The responses the
    engine got from the trunk, as (status, has a To-tag)."""
    trunk_port, callee_port = free_udp_port(), free_udp_port()
    monkeypatch.setenv("RINGTUI_SIP_TRUNK", f"127.0.0.1:{trunk_port}")
    monkeypatch.setenv("RINGTUI_SIP_TRUNK_USERNAME", TRUNK_USER)
    monkeypatch.setenv("RINGTUI_SIP_TRUNK_PASSWORD", password)
    seen: list[tuple[int, bool]] = []

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        spy_on_responses(gateway, seen)
        async with kamailio("trunk.cfg", tmp_path / "kamailio", port=trunk_port, callee_port=callee_port,
                            realm=REALM, username=TRUNK_USER, password=TRUNK_PASSWORD):
            await inbound.register(gateway, runtime, phone, tmp_path)
            callee = None
            if callee_scenario is not None:
                callee = asyncio.create_task(inbound.sipp(callee_scenario, tmp_path / "callee",
                                                          "-p", str(callee_port), "-trace_msg"))
                await asyncio.sleep(0.5)
            await outbound.dial(gateway, phone, tmp_path / "agent", agent_scenario)
            if callee is not None:
                code, errors = await callee
                assert code == 0, errors
            await outbound.settled(runtime)

    with_engine(db_url, body)
    return seen


def test_kamailio_as_the_trunk_challenges_the_engine_once_and_relays_the_call(ana, db_url, tmp_path,  # noqa: F811
                                                                               monkeypatch):
    seen = run_through_kamailio_trunk(db_url, ana, tmp_path, monkeypatch, TRUNK_PASSWORD,
                                      "trunk_agent_talks.xml", "trunk_callee.xml")
    assert (407, True) in seen  # the challenge, answered with the trunk's credentials
    assert (100, False) in seen  # Kamailio's 100 Trying has no To-tag (aiovoip gap 1)
    assert (200, True) in seen
    callee = messages(tmp_path / "callee")
    invite = callee[callee.index(f"INVITE sip:{outbound.CALLED}"):]
    assert f"P-Asserted-Identity: <sip:{ana['outgoing']}@127.0.0.1>" in invite  # the caller ID went through
    assert "Record-Route:" in invite  # and the BYE came back through Kamailio: the callee's scenario ended
    assert outbound.records(db_url) == [
        ("out", "answered", "agent", ana["outgoing"], outbound.CALLED, outbound.ANA, True, True)]
    assert outbound.attempts(db_url) == [(outbound.ANA, "OUT")]


def test_kamailio_refusing_the_trunks_credentials_fails_the_call_403_after_one_answer(ana, db_url,  # noqa: F811
                                                                                      tmp_path, monkeypatch):
    seen = run_through_kamailio_trunk(db_url, ana, tmp_path, monkeypatch, "not-the-password",
                                      outbound.refused_scenario(tmp_path, 403), None)
    assert [status for status, _ in seen if status >= 200] == [407, 407]  # answered once, not twice
    assert outbound.records(db_url) == [
        ("out", "missed", "customer", ana["outgoing"], outbound.CALLED, outbound.ANA, False, True)]


