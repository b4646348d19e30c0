"""Inbound calls without a socket: the number dialled, the caller, the SDP answer, and the INVITE
server transaction of the endpoint (a retransmitted INVITE gets the latest response, never a second run)."""

from __future__ import annotations

import asyncio

import pytest

from ringtui.engine.sip.calls import _answer, _caller, _dialled, _next_hop, ring_outcome
from ringtui.engine.sip.message import MalformedMessage, SipRequest, parse
from ringtui.engine.sip.transport import SipEndpoint
from ringtui.vocab import Outcome

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


class Wire:
    """Where an endpoint's datagrams go, kept for the test."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendto(self, data: bytes, address: tuple[str, int]) -> None:
        self.sent.append(data)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass


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
