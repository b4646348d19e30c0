"""Inbound calls without a socket: the number dialled, the caller, the SDP answer, and the INVITE
server transaction of the endpoint (a retransmitted INVITE gets the latest response, never a second run)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from ringtui.engine.sip.calls import _answer, _caller, _dialled, _next_hop, ring_outcome
from ringtui.engine.sip.message import MalformedMessage, SipRequest, parse
from ringtui.engine.sip.transport import SipEndpoint
from ringtui.vocab import Outcome
from tests.engine.conftest import Wire

SOURCE = ("127.0.0.1", 40123)


def invite(uri: str = "sip:+33912345678@127.0.0.1", *, from_user: str = "+34612345678",
           to: str = "<sip:+33912345678@127.0.0.1>", branch: str = "z9hG4bKone") -> bytes:
    lines = [f"INVITE {uri} SIP/2.0", f"Via: SIP/2.0/UDP 127.0.0.1:40123;branch={branch};rport",
             f"From: <sip:{from_user}@127.0.0.1>;tag=c1", f"To: {to}", "Call-ID: call-1",
             "CSeq: 1 INVITE", "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def request(data: bytes) -> SipRequest:
    message = parse(data, SOURCE)
    assert isinstance(message, SipRequest)
    return message


def test_the_number_dialled_is_the_request_uri_user_or_the_to_user() -> None:
    assert _dialled(request(invite())) == "+33912345678"
    assert _dialled(request(invite("sip:+33912345678;user=phone@127.0.0.1"))) == "+33912345678"
    assert _dialled(request(invite("sip:127.0.0.1", to="<sip:+33155550000@127.0.0.1>"))) == "+33155550000"
    assert _dialled(request(invite("sip:0912345678@127.0.0.1", to="<sip:0912345678@x>"))) == "0912345678"
    with pytest.raises(MalformedMessage, match="no number"):
        _dialled(request(invite("sip:127.0.0.1", to="<sip:127.0.0.1>")))


def test_the_caller_is_the_from_user_and_anonymous_when_hidden() -> None:
    assert _caller(request(invite())) == "+34612345678"
    assert _caller(request(invite(from_user="Anonymous"))) == "anonymous"


def test_the_sdp_answer_keeps_the_offers_connection_and_media_lines() -> None:
    offer = ("v=0\r\no=x 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n"
             "m=audio 4000 RTP/AVP 0\r\n")
    answer = _answer(offer, "127.0.0.1")
    assert answer.splitlines() == ["v=0", "o=ringtui 1 1 IN IP4 127.0.0.1", "s=ringtui", "c=IN IP4 10.0.0.9",
                                   "t=0 0", "m=audio 4000 RTP/AVP 0"]
    assert _answer("", "127.0.0.1") == ""


def test_each_final_response_of_an_agents_phone_and_its_silence_have_one_s5_outcome() -> None:
    said = {status: ring_outcome(status).value for status in
            (486, 600, 603, 607, 404, 410, 408, 480, 604, 302, 403, 415, 488, 500, 503)}
    assert said == {486: "REJECTED", 600: "REJECTED", 603: "REJECTED", 607: "REJECTED",
                    404: "NOTCONNECTED", 410: "NOTCONNECTED", 408: "NOTCONNECTED", 480: "NOTCONNECTED",
                    604: "NOTCONNECTED", 302: "SIP_PHONE_ERROR", 403: "SIP_PHONE_ERROR",
                    415: "SIP_PHONE_ERROR", 488: "SIP_PHONE_ERROR", 500: "SIP_PHONE_ERROR",
                    503: "SIP_PHONE_ERROR"}
    assert ring_outcome(None) is Outcome.NOTCONNECTED  # no response at all within Timer B


def test_a_request_in_a_dialog_goes_to_its_first_route_else_to_the_default() -> None:
    assert _next_hop([], ("10.0.0.1", 5062)) == ("10.0.0.1", 5062)
    assert _next_hop(["<sip:127.0.0.1:5070;lr>", "<sip:10.9.9.9;lr>"], ("x", 1)) == ("127.0.0.1", 5070)
    assert _next_hop(["<sip:proxy@192.0.2.4;lr;transport=udp>"], ("x", 1)) == ("192.0.2.4", 5060)
    assert _next_hop(["<sip:[2001:db8::1]:5080;lr>"], ("x", 1)) == ("2001:db8::1", 5080)


def test_a_retransmitted_invite_gets_the_latest_response_and_runs_once() -> None:
    async def scenario() -> tuple[list[SipRequest], list[bytes]]:
        seen: list[SipRequest] = []

        async def handler(message: SipRequest) -> bytes:
            seen.append(message)
            return b"SIP/2.0 100 Trying\r\n\r\n"

        endpoint, wire = SipEndpoint(handler), Wire()
        endpoint.connection_made(wire)  # type: ignore[arg-type]
        endpoint.datagram_received(invite(), SOURCE)
        await asyncio.sleep(0)
        endpoint.datagram_received(invite(), SOURCE)  # before 180: the 100 again
        endpoint.respond(seen[0], b"SIP/2.0 180 Ringing\r\n\r\n")
        endpoint.datagram_received(invite(), SOURCE)  # after: the 180 again
        endpoint.datagram_received(invite(branch="z9hG4bKtwo"), SOURCE)  # another transaction
        await asyncio.sleep(0)
        return seen, wire.sent

    seen, sent = asyncio.run(scenario())
    assert len(seen) == 2
    assert [data.split(b"\r\n")[0] for data in sent] == [
        b"SIP/2.0 100 Trying", b"SIP/2.0 100 Trying", b"SIP/2.0 180 Ringing", b"SIP/2.0 180 Ringing",
        b"SIP/2.0 100 Trying"]


def test_responses_and_acks_go_to_their_listeners() -> None:
    got: list[object] = []

    async def handler(message: SipRequest) -> None:
        raise AssertionError("no request should reach the handler")

    endpoint = SipEndpoint(handler, on_response=got.append, on_ack=got.append)
    endpoint.connection_made(Wire())  # type: ignore[arg-type]
    ringing = (b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa\r\n"
               b"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n")
    endpoint.datagram_received(ringing, SOURCE)
    endpoint.datagram_received(invite().replace(b"INVITE", b"ACK"), SOURCE)
    assert [getattr(m, "status_code", None) or getattr(m, "method", None) for m in got] == [180, "ACK"]


def notify_response(status: str, branch: str) -> bytes:
    return (f"SIP/2.0 {status}\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch={branch};rport\r\n"
            "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 2 NOTIFY\r\n"
            "Content-Length: 0\r\n\r\n").encode()


@pytest.fixture
def fast_timers(monkeypatch):
    """T1 10 ms, T2 40 ms, Timer F 640 ms: the RFC's proportions, a test's patience."""
    from ringtui.engine.sip import transport

    monkeypatch.setattr(transport, "T1_S", 0.01)
    monkeypatch.setattr(transport, "T2_S", 0.04)
    monkeypatch.setattr(transport, "TIMER_B_S", 0.64)


def test_a_notify_is_retransmitted_until_its_final_response(fast_timers) -> None:
    """RFC 3261 17.1.2.2 over UDP: Timer E resends it (a 1xx does not stop it), the 200 does."""
    async def scenario() -> tuple[int, int, list[object]]:
        got: list[object] = []
        endpoint, wire = SipEndpoint(lambda _: asyncio.sleep(0), on_response=got.append), Wire()
        endpoint.connection_made(wire)  # type: ignore[arg-type]
        endpoint.send_until_answered(b"NOTIFY sip:a@x SIP/2.0\r\n\r\n", SOURCE, "z9hG4bKn1")
        await asyncio.sleep(0.035)  # sent at 0, again at 10 and 30 ms
        endpoint.datagram_received(notify_response("100 Trying", "z9hG4bKn1"), SOURCE)
        await asyncio.sleep(0.05)
        endpoint.datagram_received(notify_response("200 OK", "z9hG4bKother"), SOURCE)  # not its response
        await asyncio.sleep(0.05)
        before_200 = len(wire.sent)
        endpoint.datagram_received(notify_response("200 OK", "z9hG4bKn1"), SOURCE)
        await asyncio.sleep(0.2)
        return before_200, len(wire.sent), got

    before_200, after, got = asyncio.run(scenario())
    assert before_200 >= 5  # kept going through the 100 and another transaction's 200
    assert after == before_200  # nothing more once answered
    assert [getattr(r, "status_code", None) for r in got] == [100, 200, 200]  # the legs still hear them


def test_an_unanswered_notify_is_given_up_at_timer_f(fast_timers) -> None:
    async def scenario() -> tuple[list[float], float, list[float]]:
        loop = asyncio.get_running_loop()
        sent_at: list[float] = []
        gave_up: list[float] = []
        endpoint, wire = SipEndpoint(lambda _: asyncio.sleep(0)), Wire()
        wire.sendto = lambda data, address: sent_at.append(loop.time())  # type: ignore[method-assign]
        endpoint.connection_made(wire)  # type: ignore[arg-type]
        start = loop.time()
        endpoint.send_until_answered(b"NOTIFY sip:a@x SIP/2.0\r\n\r\n", SOURCE, "z9hG4bKn2",
                                     timed_out=lambda: gave_up.append(loop.time()))
        await asyncio.sleep(1.2)
        return [at - start for at in sent_at], start, [at - start for at in gave_up]

    sent, _, gave_up = asyncio.run(scenario())
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    early = 0.002  # the loop may run a timer up to its clock resolution early
    assert gaps[0] >= 0.01 - early and gaps[1] >= 0.02 - early and min(gaps[2:]) >= 0.04 - early
    assert len(sent) >= 9  # capped at T2 (doubling without a cap sends 7 times in 640 ms)
    assert len(gave_up) == 1 and 0.64 - early <= gave_up[0] < 1.1  # Timer F, once
    assert sent[-1] < gave_up[0]  # nothing sent after giving up
