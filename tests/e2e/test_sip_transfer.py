"""Transfers over SIP against real SIPp peers (S6, RFC 3515 and 5589): a caller dials an IVR, Ana's
phone answers and REFERs the call to Bob, whose phone answers, or to an external number that a SIPp
carrier behind the trunk answers or is busy for; 127.0.0.1 only, on both databases."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from ringtui.db import engine_for
from ringtui.engine.runtime import EngineRuntime
from ringtui.engine.sip.calls import EXTERNAL_TRANSFER
from ringtui.engine.sip.gateway import SipGateway
from tests.conftest import ok
from tests.e2e.test_sip_calls import ANA, CALLER, attempts, peers_end, records, register, sipp
from tests.e2e.test_sip_registrar import SCENARIOS, free_udp_port, with_engine

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("sipp") is None,
                                 reason="sipp is not on PATH (Debian sip-tester; .ci/run installs it)")]

BOB = "bob@acme.test"


@pytest.fixture
def center(account, tmp_path, monkeypatch) -> dict[str, dict[str, str]]:
    """An IVR ringing Ana only; Bob has a phone too. Both agents' SIP credentials and the number."""
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    for email in (ANA, BOB):
        ok(account("users", "add", email))
    ok(account("ivr", "create", "Standard"))
    ok(account("ivr", "step", "add", "Standard", "--type", "ring", "--agent", ANA, "--ring-seconds", "20"))
    number = ok(account("numbers", "search", "--country", "FR", "--format", "national", "--limit", "1",
                        "--json")).json()[0]["number"]
    ok(account("numbers", "add", number))
    ok(account("numbers", "assign", number, "--ivr", "Standard"))
    e164 = ok(account("numbers", "list", "--json")).json()[0]["number"]
    phones = {email: ok(account("users", "sip-credentials", email, "--json")).json() for email in (ANA, BOB)}
    return {"ana": {**phones[ANA], "number": e164}, "bob": {**phones[BOB], "number": e164}}


def slow_caller(directory: Path) -> str:
    """caller_talks.xml talking 3 s: long enough for a REFER before its BYE."""
    path = directory / "caller_talks_long.xml"
    path.write_text((SCENARIOS / "caller_talks.xml").read_text().replace(
        '<pause milliseconds="500"/>', '<pause milliseconds="3000"/>'))
    return str(path)


TAKE_BYE = '''  <recv request="BYE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
'''  # a SIPp phone's end of the call: the engine's BYE, answered 200


def refused_refer(directory: Path, status: str) -> str:
    """agent_refers.xml whose REFER is refused with `status`: the call stays, the caller's BYE ends it."""
    text_ = (SCENARIOS / "agent_refers.xml").read_text()
    head, _, _ = text_.partition('<recv response="202"/>')
    path = directory / f"agent_refers_refused_{status}.xml"
    path.write_text(head + f'<recv response="{status}"/>\n' + TAKE_BYE + '</scenario>\n')
    return str(path)


def transfer_rows(db_url: str) -> list[tuple]:
    with engine_for(db_url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT b.email, t.email, t_.kind, t_.answered, t_.to_number FROM call_transfer t_ "
            "JOIN app_user b ON b.id = t_.by_user_id LEFT JOIN app_user t ON t.id = t_.to_user_id "
            "ORDER BY t_.id"))]


def run_transfer(db_url: str, phones: dict[str, dict[str, str]], cwd: Path, caller_scenario: str,
                 ana_scenario: str, target: str, bob_scenario: str | None, *, ana_calls: int = 1,
                 carrier: tuple[str, int] | None = None) -> None:
    """Ana's and Bob's phones register, Ana's (`ana_calls` calls) and Bob's scenarios listen, and the
    carrier's (scenario, trunk port) if any; the caller calls; every SIPp run must succeed."""
    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        ana_port = await register(gateway, runtime, phones["ana"], cwd / "ana")
        bob_port = await register(gateway, runtime, phones["bob"], cwd / "bob", email=BOB)
        ana = asyncio.create_task(sipp(ana_scenario, cwd / "ana" / "agent", "-p", str(ana_port),
                                       "-set", "target", target, "-trace_msg", calls=ana_calls))
        bob = carried = None
        if bob_scenario is not None:
            bob = asyncio.create_task(sipp(bob_scenario, cwd / "bob" / "agent", "-p", str(bob_port)))
        if carrier is not None:
            carried = asyncio.create_task(sipp(carrier[0], cwd / "carrier", "-p", str(carrier[1]),
                                               "-trace_msg"))
        await asyncio.sleep(0.5)  # the phones' SIPp listen
        code, errors = await sipp(caller_scenario, cwd / "caller", f"127.0.0.1:{gateway.address[1]}",
                                  "-p", str(free_udp_port()), "-s", phones["ana"]["number"],
                                  "-set", "caller", CALLER, "-trace_msg")
        assert code == 0, errors
        await peers_end(runtime, ana, bob, carried)

    with_engine(db_url, body)


def ana_messages(cwd: Path) -> str:
    logs = (cwd / "ana" / "agent").glob("*_messages.log")
    return "".join(path.read_text(errors="replace") for path in logs)


def test_ana_refers_the_call_to_bob_who_answers(center, db_url, tmp_path):
    run_transfer(db_url, center, tmp_path, "caller_transferred.xml", "agent_refers.xml",
                 center["bob"]["username"], "agent_answer.xml")
    assert records(db_url) == [("answered", "customer", CALLER, center["ana"]["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED"), (BOB, "ANSWERED")]
    assert transfer_rows(db_url) == [(ANA, BOB, "blind", True, None)]
    with engine_for(db_url).connect() as connection:
        user = connection.execute(text(
            "SELECT u.email FROM call_record r JOIN app_user u ON u.id = r.user_id")).scalar_one()
    assert user == ANA  # the agent who answered first
    log = ana_messages(tmp_path)
    assert "SIP/2.0 202 Accepted" in log
    assert "Event: refer" in log and "SIP/2.0 100 Trying" in log and "Subscription-State: terminated" in log


def test_a_refer_to_nobody_is_refused_and_the_call_stays_with_ana(center, db_url, tmp_path):
    run_transfer(db_url, center, tmp_path, slow_caller(tmp_path), refused_refer(tmp_path, "404"), "nobody",
                 None)
    assert records(db_url) == [("answered", "customer", CALLER, center["ana"]["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]
    assert transfer_rows(db_url) == []
    assert "'nobody' is neither an agent's SIP username nor a number" in ana_messages(tmp_path)


def messages(cwd: Path, side: str) -> str:
    return "".join(path.read_text(errors="replace") for path in (cwd / side).glob("*_messages.log"))


# ------------------------------------------------ transfers to an external number, through the trunk

EXTERNAL = "+33612345678"


def caller_given_the_carrier(directory: Path, origin: str = "transferrer") -> str:
    """caller_transferred.xml that wants the carrier's stream (port 7000) in the re-INVITE, under the
    origin of the session it had (`origin`: the answering phone's o= user), version 2."""
    path = directory / "caller_given_the_carrier.xml"
    path.write_text((SCENARIOS / "caller_transferred.xml").read_text().replace(
        "o=transferrer 1 2", f"o={origin} 1 2").replace(
        '<ereg regexp="c=IN IP4 127.0.0.1" search_in="body" check_it="true" assign_to="media"/>',
        '<ereg regexp="c=IN IP4 127.0.0.1" search_in="body" check_it="true" assign_to="media"/>\n'
        '      <ereg regexp="m=audio 7000 RTP/AVP 0" search_in="body" check_it="true" assign_to="stream"/>'
    ).replace('<Reference variables="origin,media"/>', '<Reference variables="origin,media,stream"/>'))
    return str(path)


def test_ana_refers_the_call_to_a_number_the_carrier_answers_and_the_caller_talks_to_it(
        center, trunk, db_url, tmp_path):
    """The number is called through the trunk (the carrier's 401 answered with the trunk's credentials)
    with the caller's own offer; its 200: Ana's final NOTIFY is 200 OK, her leg ends, the caller is
    re-INVITEd with the carrier's stream; the caller's BYE ends the carrier's leg."""
    run_transfer(db_url, center, tmp_path, caller_given_the_carrier(tmp_path), "agent_refers.xml",
                 "0612345678", None, carrier=("trunk_carrier_answers.xml", trunk))
    assert records(db_url) == [("answered", "customer", CALLER, center["ana"]["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]
    assert transfer_rows(db_url) == [(ANA, None, "blind", True, EXTERNAL)]
    carrier = messages(tmp_path, "carrier")
    assert f"INVITE sip:{EXTERNAL}@127.0.0.1:{trunk} SIP/2.0" in carrier
    assert "o=caller 1 1" in carrier  # the caller's session, offered to the number
    assert f"From: <sip:{CALLER}@" in carrier  # caller ID: the customer's number
    assert "Authorization: Digest" in carrier and "BYE sip:callee@" in carrier
    log = ana_messages(tmp_path)
    assert "SIP/2.0 100 Trying" in log and "SIP/2.0 200 OK\r\n" in log.replace("\n", "\r\n")


def test_a_busy_number_brings_the_call_back_to_ana_with_the_busy_status_in_her_notify(
        center, trunk, db_url, tmp_path):
    """The carrier's 486: Ana's final NOTIFY carries "486 Busy Here", her leg ends and her phone rings
    again with the call (the recall); she takes it back, the caller is re-INVITEd with her new
    session, then hangs up. The transfer is recorded, not answered; Ana's answer counted once."""
    run_transfer(db_url, center, tmp_path, "caller_transferred.xml", "agent_refers_recalled.xml",
                 EXTERNAL, None, ana_calls=2, carrier=("trunk_carrier_busy.xml", trunk))
    assert records(db_url) == [("answered", "customer", CALLER, center["ana"]["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]
    assert transfer_rows(db_url) == [(ANA, None, "blind", False, EXTERNAL)]
    assert "SIP/2.0 486 Busy Here" in messages(tmp_path, "carrier")


def test_the_feed_transfers_a_sip_call_to_a_number_the_carrier_answers(center, trunk, db_url, tmp_path):
    """The feed's transfer (the TUI's x): Ana's leg ends at once, the number is called, the caller is
    re-INVITEd with the carrier's session."""
    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        ana_port = await register(gateway, runtime, center["ana"], tmp_path / "ana")
        ana = asyncio.create_task(sipp("agent_answer.xml", tmp_path / "ana" / "agent", "-p", str(ana_port)))
        carrier = asyncio.create_task(sipp("trunk_carrier_answers.xml", tmp_path / "carrier",
                                           "-p", str(trunk), "-trace_msg"))
        await asyncio.sleep(0.5)
        caller = asyncio.create_task(sipp(
            caller_given_the_carrier(tmp_path, "agent"), tmp_path / "caller",
            f"127.0.0.1:{gateway.address[1]}", "-p", str(free_udp_port()), "-s", center["ana"]["number"],
            "-set", "caller", CALLER))
        call_id = await connected_call(runtime, ANA)
        runtime.transfer(call_id, ANA, EXTERNAL)
        async with asyncio.timeout(5):  # engine status shows the leg to the number
            while not (shown := [call.get("sip_external") for call in runtime.snapshot()["calls"]
                                 if call.get("sip_external")]):
                await asyncio.sleep(0.02)
        assert shown[0]["uri"] == f"sip:{EXTERNAL}@127.0.0.1:{trunk}"
        assert shown[0]["state"] in {"ringing", "answered"}
        await peers_end(runtime, caller, ana, carrier)

    with_engine(db_url, body)
    assert records(db_url) == [("answered", "customer", CALLER, center["ana"]["number"], True)]
    assert transfer_rows(db_url) == [(ANA, None, "blind", True, EXTERNAL)]


def caller_hung_up_on_by_the_carrier(directory: Path) -> str:
    """caller_given_the_carrier.xml that, instead of hanging up, takes the engine's BYE."""
    text_ = Path(caller_given_the_carrier(directory)).read_text()
    head, _, _ = text_.partition('  <recv request="ACK"/>\n  <pause milliseconds="500"/>')
    path = directory / "caller_hung_up_on_by_the_carrier.xml"
    path.write_text(head + '  <recv request="ACK"/>\n' + TAKE_BYE
                    + '  <Reference variables="origin,media,stream"/>\n</scenario>\n')
    return str(path)


def refer_ending(directory: Path, status: str) -> str:
    """agent_refers.xml whose final NOTIFY must carry `status` (e.g. "487 Request Terminated")."""
    path = directory / f"agent_refers_{status.split()[0]}.xml"
    path.write_text((SCENARIOS / "agent_refers.xml").read_text().replace(
        'regexp="SIP/2.0 200 OK" search_in="body"', f'regexp="SIP/2.0 {status}" search_in="body"'))
    return str(path)


def test_the_carrier_hanging_up_ends_the_callers_leg(center, trunk, db_url, tmp_path):
    run_transfer(db_url, center, tmp_path, caller_hung_up_on_by_the_carrier(tmp_path), "agent_refers.xml",
                 EXTERNAL, None, carrier=("trunk_carrier_hangs_up.xml", trunk))
    assert records(db_url) == [("answered", "customer", CALLER, center["ana"]["number"], True)]
    assert transfer_rows(db_url) == [(ANA, None, "blind", True, EXTERNAL)]


def test_the_caller_hanging_up_while_the_number_rings_cancels_it(center, trunk, db_url, tmp_path):
    """The caller's BYE while the carrier rings: CANCEL to the carrier, Ana's final NOTIFY 487; the
    transfer is recorded, not answered."""
    ana = refer_ending(tmp_path, "487 Request Terminated")
    run_transfer(db_url, center, tmp_path, slow_caller(tmp_path), ana, EXTERNAL, None,
                 carrier=("trunk_carrier_cancelled.xml", trunk))
    assert records(db_url) == [("answered", "customer", CALLER, center["ana"]["number"], True)]
    assert transfer_rows(db_url) == [(ANA, None, "blind", False, EXTERNAL)]
    assert "CANCEL sip:" in messages(tmp_path, "carrier")


# ------------------------------------------------ transfers the SIP engine cannot carry (no trunk, outbound)


def test_a_refer_to_an_external_number_is_refused_403_and_the_call_stays_with_ana(center, db_url, tmp_path):
    """No trunk to call the number by: refused before the core releases Ana, with the reason."""
    run_transfer(db_url, center, tmp_path, slow_caller(tmp_path), refused_refer(tmp_path, "403"),
                 "0612345678", None)
    assert records(db_url) == [("answered", "customer", CALLER, center["ana"]["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]
    assert transfer_rows(db_url) == []
    log = ana_messages(tmp_path)
    assert "SIP/2.0 403 Forbidden" in log
    assert f'Warning: 399 ringtui "{EXTERNAL_TRANSFER}"' in log


async def connected_call(runtime: EngineRuntime, agent: str) -> str:
    """The id of the call `agent` is connected to, once they are."""
    async with asyncio.timeout(10):
        while True:
            for call in runtime.center.snapshot()["calls"]:
                if call.get("agent") == agent and call["state"] == "connected":
                    return call["call_id"]
            await asyncio.sleep(0.05)


def refuse_feed_transfer(runtime: EngineRuntime, call_id: str, target: str, reason: str) -> None:
    """The feed's transfer action (the TUI's x) is refused naming the call, the target and why; the
    call is still with Ana."""
    from ringtui.engine.feed import ControlRefused
    from ringtui.engine.runtime import OWNER_RIGHTS

    with pytest.raises(ControlRefused) as refused:
        runtime._control({"action": "transfer", "call_id": call_id, "agent": ANA, "target": target},
                         OWNER_RIGHTS)
    assert f"cannot transfer call {call_id!r} to {target!r}" in str(refused.value)
    assert reason in str(refused.value)
    [call] = runtime.center.snapshot()["calls"]
    assert (call["agent"], call["state"]) == (ANA, "connected")


def test_without_a_trunk_the_feed_cannot_transfer_a_sip_call_to_a_number_and_the_call_stays_with_ana(
        center, db_url, tmp_path):
    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        ana_port = await register(gateway, runtime, center["ana"], tmp_path / "ana")
        ana = asyncio.create_task(sipp("agent_answer.xml", tmp_path / "ana" / "agent", "-p", str(ana_port)))
        await asyncio.sleep(0.5)
        caller = asyncio.create_task(sipp(
            slow_caller(tmp_path), tmp_path / "caller", f"127.0.0.1:{gateway.address[1]}",
            "-p", str(free_udp_port()), "-s", center["ana"]["number"], "-set", "caller", CALLER))
        call_id = await connected_call(runtime, ANA)
        refuse_feed_transfer(runtime, call_id, EXTERNAL, EXTERNAL_TRANSFER)
        await peers_end(runtime, caller, ana)  # the caller talks on with Ana, then hangs up

    with_engine(db_url, body)
    assert records(db_url) == [("answered", "customer", CALLER, center["ana"]["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]
    assert transfer_rows(db_url) == []
