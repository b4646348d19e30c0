"""Outbound calls over SIP against real peers: a SIPp agent's phone dials an external number, the engine
authenticates it (407), applies the off-plan rules and the OUT blacklist, and places the call through
the trunk, a SIPp carrier that challenges the engine (401) and answers, is busy, hangs up, is
cancelled, challenges twice or never answers; 127.0.0.1 only, on both databases. Each test reads
the call records the engine wrote.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ringtui.config import load_settings
from ringtui.db import engine_for
from ringtui.engine.runtime import EngineOptions, EngineRuntime
from ringtui.engine.sip import outbound as outbound_legs
from ringtui.engine.sip.digest import authorization, parse_challenge
from ringtui.engine.sip.gateway import SipGateway
from tests.conftest import ok
from tests.e2e.test_sip_calls import attempts, register, sipp
from tests.e2e.test_sip_registrar import SCENARIOS, Phone, free_udp_port, with_engine

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("sipp") is None,
                                 reason="sipp is not on PATH (Debian sip-tester; .ci/run installs it)")]

ANA = "ana@acme.test"
DIALLED = "0612345678"  # a French mobile in national form: the account is in FR
CALLED = "+33612345678"


@pytest.fixture
def ana(account, tmp_path, monkeypatch) -> dict[str, str]:
    """Ana has a SIP phone and an outgoing number of the account; her credentials and that number."""
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    ok(account("users", "add", ANA))
    credentials = ok(account("users", "sip-credentials", ANA, "--json")).json()
    number = ok(account("numbers", "search", "--country", "FR", "--format", "national", "--limit", "1",
                        "--json")).json()[0]["number"]
    ok(account("numbers", "add", number))
    outgoing = ok(account("numbers", "list", "--json")).json()[0]["number"]
    ok(account("users", "set", ANA, f"outgoing_number={outgoing}"))
    return {**credentials, "outgoing": outgoing}


def refused_scenario(tmp_path: Path, status: int) -> Path:
    """trunk_agent_refused.xml expecting `status` as the final response."""
    path = tmp_path / f"trunk_agent_refused_{status}.xml"
    path.write_text((SCENARIOS / "trunk_agent_refused.xml").read_text().replace("__STATUS__", str(status)))
    return path


async def dial(gateway: SipGateway, phone: dict[str, str], cwd: Path, scenario: str | Path,
               number: str = DIALLED, password: str | None = None) -> None:
    code, errors = await sipp(str(scenario), cwd, f"127.0.0.1:{gateway.address[1]}",
                              "-p", str(free_udp_port()), "-s", number, "-set", "user", phone["username"],
                              "-au", phone["username"], "-ap", password or phone["password"], "-trace_msg")
    assert code == 0, errors


def run_outbound(db_url: str, phone: dict[str, str], cwd: Path, agent_scenario: str | Path,
                 carrier_scenario: str | None, trunk_port: int | None, *, number: str = DIALLED,
                 password: str | None = None) -> dict[str, str]:
    """Ana's phone registers and dials; the carrier (if any) runs on the trunk port. Their message logs."""

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> dict[str, str]:
        await register(gateway, runtime, phone, cwd)
        carrier = None
        if carrier_scenario is not None:
            carrier = asyncio.create_task(sipp(carrier_scenario, cwd / "carrier", "-p", str(trunk_port),
                                               "-trace_msg"))
            await asyncio.sleep(0.5)  # SIPp is listening
        await dial(gateway, phone, cwd / "agent", agent_scenario, number, password)
        if carrier is not None:
            code, errors = await carrier
            assert code == 0, errors
        await settled(runtime)
        return {side: "".join(log.read_text(errors="replace") for log in (cwd / side).glob("*_messages.log"))
                for side in ("agent", "carrier")}

    return with_engine(db_url, body)


async def settled(runtime: EngineRuntime) -> None:
    """Every call over and its record written and closed: the engine's stop cancels a batch write in
    flight, then closes the records still open as ended by engine_restart (a race of the runtime)."""
    async with asyncio.timeout(10):
        while (runtime.center.calls or runtime.recorder.pending
               or await asyncio.to_thread(_open_records, runtime)):
            await asyncio.sleep(0.05)


def _open_records(runtime: EngineRuntime) -> int:
    with runtime.database.connect() as connection:
        query = text("SELECT count(*) FROM call_record WHERE ended_at IS NULL")
        return connection.execute(query).scalar_one()


def records(db_url: str) -> list[tuple[Any, ...]]:
    """(direction, type, ended_by, from, to, agent, talked, closed) of every call record."""
    with engine_for(db_url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT r.direction, r.type, r.ended_by, r.from_number, r.to_number, u.email, r.talk_s > 0, "
            "r.ended_at IS NOT NULL FROM call_record r LEFT JOIN app_user u ON u.id = r.user_id "
            "ORDER BY r.id"))]


# ---------------------------------------------------------------- calls that go out


def test_an_agent_calls_out_through_the_trunk_with_her_outgoing_number_and_hangs_up(ana, trunk, db_url,
                                                                                    tmp_path):
    """407 to the phone, the national number in E.164, 401 from the carrier answered once with the
    trunk's credentials (the carrier checks them; Kamailio's 407 in test_sip_kamailio), the caller ID
    set, 183 (early media)/180/200 relayed, BYE both ways."""
    logs = run_outbound(db_url, ana, tmp_path, "trunk_agent_talks.xml", "trunk_carrier_answers.xml", trunk)
    assert records(db_url) == [("out", "answered", "agent", ana["outgoing"], CALLED, ANA, True, True)]
    assert attempts(db_url) == [(ANA, "OUT")]
    invites = [block for block in logs["carrier"].split("INVITE sip:")[1:] if block.startswith(CALLED)]
    assert len(invites) == 2  # the first one challenged, the second one with credentials
    assert f"From: <sip:{ana['outgoing']}@127.0.0.1>" in invites[0]
    assert f"P-Asserted-Identity: <sip:{ana['outgoing']}@127.0.0.1>" in invites[0]
    assert "\nAuthorization: Digest" in invites[1] and 'username="trunkuser"' in invites[1]
    early = logs["agent"][logs["agent"].index("SIP/2.0 183"):]
    assert "s=early" in early.split("SIP/2.0 180")[0]  # the carrier's early media offer reached the phone


def test_the_agent_puts_an_outbound_call_on_hold_and_the_reinvite_is_answered(ana, trunk, db_url, tmp_path):
    """A re-INVITE from the agent's phone mid-call (hold) gets 200 with the session as agreed, now
    a=recvonly (was 488); its ACK is absorbed, the call goes on and ends with the phone's BYE."""
    logs = run_outbound(db_url, ana, tmp_path, "trunk_agent_holds.xml", "trunk_carrier_answers.xml", trunk)
    held = logs["agent"].split("CSeq: 3 INVITE")[-1]
    assert "SIP/2.0 200" in logs["agent"] and "a=recvonly" in held
    assert "SIP/2.0 488" not in logs["agent"]
    assert records(db_url) == [("out", "answered", "agent", ana["outgoing"], CALLED, ANA, True, True)]


def test_the_called_party_hangs_up_and_the_agents_phone_gets_the_bye(ana, trunk, db_url, tmp_path):
    run_outbound(db_url, ana, tmp_path, "trunk_agent_hung_up_on.xml", "trunk_carrier_hangs_up.xml", trunk)
    assert records(db_url) == [("out", "answered", "customer", ana["outgoing"], CALLED, ANA, True, True)]


def test_the_agent_gives_up_while_it_rings_and_the_trunk_leg_is_cancelled(ana, trunk, db_url, tmp_path):
    run_outbound(db_url, ana, tmp_path, "trunk_agent_cancels.xml", "trunk_carrier_cancelled.xml", trunk)
    assert records(db_url) == [("out", "missed", "agent", ana["outgoing"], CALLED, ANA, False, True)]


def test_a_busy_called_party_is_relayed_486_to_the_agent(ana, trunk, db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("RINGTUI_SIP_TRUNK", f"localhost:{trunk}")  # a name, resolved once at start
    run_outbound(db_url, ana, tmp_path, refused_scenario(tmp_path, 486), "trunk_carrier_busy.xml", trunk)
    assert records(db_url) == [("out", "missed", "customer", ana["outgoing"], CALLED, ANA, False, True)]


def test_a_second_challenge_of_the_trunk_is_not_answered_and_the_agent_gets_403(ana, trunk, db_url,
                                                                               tmp_path):
    """aiovoip gap 6: its 407 handling recurses forever; here the trunk's challenge is answered once."""
    logs = run_outbound(db_url, ana, tmp_path, refused_scenario(tmp_path, 403),
                        "trunk_carrier_challenges_twice.xml", trunk)
    assert logs["carrier"].count(f"INVITE sip:{CALLED}") == 2
    assert records(db_url) == [("out", "missed", "customer", ana["outgoing"], CALLED, ANA, False, True)]


# ---------------------------------------------------------------- calls refused before the trunk


class SilentTrunk:
    """A UDP socket on the trunk's port: it must receive nothing."""

    def __init__(self, port: int) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", port))
        self.socket.setblocking(False)

    def received(self) -> list[bytes]:
        datagrams = []
        while True:
            try:
                datagrams.append(self.socket.recv(65535))
            except BlockingIOError:
                return datagrams


def refused_before_the_trunk(db_url: str, phone: dict[str, str], tmp_path: Path, trunk_port: int | None,
                             status: int, number: str = DIALLED, password: str | None = None) -> None:
    silent = SilentTrunk(trunk_port) if trunk_port else None
    try:
        run_outbound(db_url, phone, tmp_path, refused_scenario(tmp_path, status), None, None, number=number,
                     password=password)
        if silent is not None:
            assert silent.received() == []
    finally:
        if silent is not None:
            silent.socket.close()


@pytest.mark.parametrize("whose", [(), ("--user", ANA)], ids=["company-wide", "the user's own"])
def test_a_number_blacklisted_out_is_refused_403_and_recorded(ana, account, trunk, db_url, tmp_path, whose):
    ok(account("blacklist", "add", CALLED, "--direction", "out", *whose))
    refused_before_the_trunk(db_url, ana, tmp_path, trunk, 403)
    assert records(db_url) == [("out", "missed", "system", ana["outgoing"], CALLED, None, False, True)]


@pytest.mark.parametrize(("number", "why"), [
    ("+34612345678", "off-plan: another country without off_plan_destinations"),
    ("0899123456", "a special-rate number without special_rate_numbers"),
])
def test_off_plan_destinations_are_refused_403_before_the_trunk_and_recorded(ana, trunk, db_url, tmp_path,
                                                                            number, why):
    refused_before_the_trunk(db_url, ana, tmp_path, trunk, 403, number=number)
    e164 = number if number.startswith("+") else "+33" + number[1:]
    assert records(db_url) == [("out", "missed", "system", ana["outgoing"], e164, None, False, True)]


def test_an_outbound_call_beyond_the_agents_channels_is_refused_486_and_recorded(ana, account, trunk,
                                                                                db_url, tmp_path):
    """Ana (max_channels=1) talks on a first outbound call; her second one is refused 486 before the
    trunk hears of it, and recorded, like an inbound call finding her busy."""
    ok(account("users", "perms", ANA, "max_channels=1"))
    talks = tmp_path / "trunk_agent_talks_long.xml"
    talks.write_text((SCENARIOS / "trunk_agent_talks.xml").read_text().replace(
        '<pause milliseconds="1000"/>', '<pause milliseconds="6000"/>'))

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> str:
        await register(gateway, runtime, ana, tmp_path)
        carrier = asyncio.create_task(sipp("trunk_carrier_answers.xml", tmp_path / "carrier",
                                           "-p", str(trunk)))
        await asyncio.sleep(0.5)
        first = asyncio.create_task(dial(gateway, ana, tmp_path / "first", talks))
        async with asyncio.timeout(10):
            while not any(call.phase == "connected" for call in runtime.center.calls.values()):
                await asyncio.sleep(0.05)
        await dial(gateway, ana, tmp_path / "second", refused_scenario(tmp_path, 486))
        await first
        code, errors = await carrier
        assert code == 0, errors
        await settled(runtime)
        return "".join(log.read_text() for log in (tmp_path / "second").glob("*_messages.log"))

    second = with_engine(db_url, body)
    assert "max_channels=1" in second.split("SIP/2.0 486")[1].split("\n\n")[0]  # the Warning says why
    assert records(db_url) == [("out", "answered", "agent", ana["outgoing"], CALLED, ANA, True, True),
                               ("out", "missed", "system", ana["outgoing"], CALLED, None, False, True)]


def test_a_number_that_is_not_one_is_refused_484(ana, trunk, db_url, tmp_path):
    refused_before_the_trunk(db_url, ana, tmp_path, trunk, 484, number="0612")
    assert records(db_url) == []


def test_a_wrong_password_on_the_invite_is_refused_403(ana, trunk, db_url, tmp_path):
    refused_before_the_trunk(db_url, ana, tmp_path, trunk, 403, password="not-" + ana["password"])
    assert records(db_url) == []


def test_without_a_trunk_an_outbound_call_is_refused_503(ana, db_url, tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("RINGTUI_SIP_TRUNK", raising=False)
    with caplog.at_level("WARNING", logger="ringtui.engine.sip"):
        refused_before_the_trunk(db_url, ana, tmp_path, None, 503)
    assert "no SIP trunk is configured" in caplog.text
    assert records(db_url) == []




# ---------------------------------------------------------------- a silent trunk, a stopping engine


def test_a_trunk_that_never_answers_gets_the_invite_retransmitted_then_the_agent_408(ana, trunk, db_url,
                                                                                  tmp_path, monkeypatch):
    """aiovoip gap 3 on the trunk leg: the INVITE client transaction retransmits (Timer A) on one
    branch until Timer B, then the call fails 408."""
    monkeypatch.setattr(outbound_legs, "TIMER_B_S", 2.0)  # 32 s in production
    silent = SilentTrunk(trunk)
    try:
        run_outbound(db_url, ana, tmp_path, refused_scenario(tmp_path, 408), None, None)
        invites = [datagram for datagram in silent.received() if datagram.startswith(b"INVITE ")]
    finally:
        silent.socket.close()
    branches = {datagram.split(b";branch=", 1)[1].split(b";", 1)[0] for datagram in invites}
    assert len(invites) >= 3 and len(branches) == 1  # T1, 2*T1 ... within Timer B, one transaction
    assert records(db_url) == [("out", "missed", "customer", ana["outgoing"], CALLED, ANA, False, True)]


def test_an_engine_stopping_ends_an_outbound_call_on_both_legs(ana, trunk, db_url, tmp_path):
    """The phone and the called party each get a BYE; the record is closed. While the call is up,
    the engine's snapshot shows its SIP side."""
    shown: list[dict[str, Any]] = []

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        await register(gateway, runtime, ana, tmp_path)
        carrier = asyncio.create_task(sipp("trunk_carrier_answers.xml", tmp_path / "carrier",
                                           "-p", str(trunk)))
        await asyncio.sleep(0.5)
        phone = asyncio.create_task(dial(gateway, ana, tmp_path / "agent", "trunk_agent_hung_up_on.xml"))
        async with asyncio.timeout(10):
            while not any(call.answered_at for call in runtime.center.calls.values()):
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the phone's ACK is in
        shown.extend(runtime.snapshot()["calls"])  # what `engine status` shows
        return carrier, phone

    async def scenario() -> None:
        runtime = EngineRuntime(load_settings(database_url=db_url), EngineOptions(ws="127.0.0.1:0"))
        gateway = SipGateway(runtime, "127.0.0.1:0")
        stop = asyncio.Event()
        running = asyncio.create_task(runtime.run(stop, gateway.run))
        async with asyncio.timeout(10):
            while gateway.address is None or runtime.address is None:
                await asyncio.sleep(0.02)
        carrier, phone = await body(runtime, gateway)
        stop.set()
        await asyncio.wait_for(running, 10)
        await phone  # its scenario ends with the BYE it got
        code, errors = await carrier
        assert code == 0, errors

    asyncio.run(scenario())
    assert [row[-1] for row in records(db_url)] == [True]  # closed, not left open
    [call] = shown
    assert (call["direction"], call["agent"], call["to_number"]) == ("out", ANA, CALLED)
    assert call["channel"] == "sip"
    assert call["sip_peer"].startswith("127.0.0.1:") and call["sip_call_id"]
    assert call["sip_trunk"] == {"uri": f"sip:{CALLED}@127.0.0.1:{trunk}", "address": f"127.0.0.1:{trunk}",
                                 "state": "answered"}


# ---------------------------------------------------------------- the edge: wrong passwords on INVITEs


def raw_invite(user: str, port: int, cseq: int, authorization: str = "") -> bytes:
    lines = [f"INVITE sip:{DIALLED}@127.0.0.1 SIP/2.0",
             f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKout{cseq};rport",
             f"From: <sip:{user}@127.0.0.1>;tag=raw", f"To: <sip:{DIALLED}@127.0.0.1>",
             "Call-ID: raw-out-1",
             f"CSeq: {cseq} INVITE", f"Contact: <sip:{user}@127.0.0.1:{port}>", "Max-Forwards: 70"]
    if authorization:
        lines.append(f"Proxy-Authorization: {authorization}")
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


def test_a_wrong_password_on_an_invite_counts_towards_the_edge_ban(ana, db_url, tmp_path, monkeypatch):
    """The same ban after authentication failures as for REGISTER ([sip] ban_after_failures). No trunk
    here: the edge trusts the trunk's address, and every peer of these tests is on 127.0.0.1."""
    monkeypatch.delenv("RINGTUI_SIP_TRUNK", raising=False)
    config = tmp_path / "config.toml"
    config.write_text("[sip]\nban_after_failures = 1\n")
    monkeypatch.setenv("RINGTUI_CONFIG", str(config))

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        phone = Phone(gateway.address[1])
        try:
            await phone.send(raw_invite(ana["username"], phone.port, 1))
            status, headers, _ = await phone.receive()
            assert status == 407
            challenge = parse_challenge(headers["proxy-authenticate"][0])
            wrong = authorization(challenge, username=ana["username"], password="not-" + ana["password"],
                                  method="INVITE", uri=f"sip:{DIALLED}@127.0.0.1")
            await phone.send(raw_invite(ana["username"], phone.port, 2, wrong))
            async with asyncio.timeout(3):
                while "127.0.0.1" not in gateway.guard.banned:
                    await asyncio.sleep(0.02)
        finally:
            phone.close()

    with_engine(db_url, body)
    assert records(db_url) == []


# ---------------------------------------------------------------- transfers of an outbound call


def agent_scenario(tmp_path: Path, name: str, mid_call: str, *, bye_cseq: int = 3) -> Path:
    """trunk_agent_talks.xml with `mid_call` in place of its second of talk."""
    path = tmp_path / f"{name}.xml"
    path.write_text((SCENARIOS / "trunk_agent_talks.xml").read_text().replace(
        '<pause milliseconds="1000"/>', mid_call).replace("CSeq: 3 BYE", f"CSeq: {bye_cseq} BYE"))
    return path


REFER = """<send retrans="500">
    <![CDATA[

      REFER [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[$user]@[remote_ip]>;tag=[pid]SIPpAgent[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 3 REFER
      Contact: <sip:[$user]@[local_ip]:[local_port]>
      Refer-To: <sip:0698765432@[remote_ip]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="403"/>
  <pause milliseconds="300"/>"""


def test_a_refer_of_an_outbound_call_is_refused_403_and_the_call_goes_on(ana, trunk, db_url, tmp_path):
    """The carrier's leg cannot be handed on yet: 403 with the reason (was 481), the call stays Ana's."""
    refers = agent_scenario(tmp_path, "trunk_agent_refers", REFER, bye_cseq=4)
    logs = run_outbound(db_url, ana, tmp_path, refers, "trunk_carrier_answers.xml", trunk)
    refused = logs["agent"].split("CSeq: 3 REFER")[-1]
    assert "SIP/2.0 403 Forbidden" in logs["agent"]
    assert f'Warning: 399 ringtui "{outbound_legs.OUTBOUND_TRANSFER}"' in logs["agent"]
    assert "SIP/2.0 200" in refused  # the BYE that followed was answered: the call had gone on
    assert records(db_url) == [("out", "answered", "agent", ana["outgoing"], CALLED, ANA, True, True)]
    assert attempts(db_url) == [(ANA, "OUT")]


def test_the_feed_cannot_transfer_an_outbound_sip_call_and_the_call_stays_with_ana(ana, account, trunk,
                                                                                   db_url, tmp_path):
    from ringtui.engine.feed import ControlRefused
    from ringtui.engine.runtime import OWNER_RIGHTS

    ok(account("users", "add", "bob@acme.test"))
    talks = agent_scenario(tmp_path, "trunk_agent_talks_long", '<pause milliseconds="3000"/>')

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        await register(gateway, runtime, ana, tmp_path)
        carrier = asyncio.create_task(sipp("trunk_carrier_answers.xml", tmp_path / "carrier",
                                           "-p", str(trunk)))
        await asyncio.sleep(0.5)
        agent = asyncio.create_task(dial(gateway, ana, tmp_path / "agent", talks))
        async with asyncio.timeout(10):
            while not any(call["state"] == "connected" for call in runtime.center.snapshot()["calls"]):
                await asyncio.sleep(0.05)
        [call] = runtime.center.snapshot()["calls"]
        for target in ("bob@acme.test", "+33698765432"):
            with pytest.raises(ControlRefused) as refused:
                runtime._control({"action": "transfer", "call_id": call["call_id"], "agent": ANA,
                                  "target": target}, OWNER_RIGHTS)
            assert str(refused.value) == (f"cannot transfer call {call['call_id']!r} to {target!r}: "
                                          f"{outbound_legs.OUTBOUND_TRANSFER}")
        [still] = runtime.center.snapshot()["calls"]
        assert (still["agent"], still["state"]) == (ANA, "connected")
        await agent
        code, errors = await carrier
        assert code == 0, errors
        await settled(runtime)

    with_engine(db_url, body)
    assert records(db_url) == [("out", "answered", "agent", ana["outgoing"], CALLED, ANA, True, True)]
    assert attempts(db_url) == [(ANA, "OUT")]
