"""The tolerant SIP parser (aiovoip gap 7) and the addressing of responses (gap 4), without a socket."""

from __future__ import annotations

import pytest

from ringtui.engine.sip.message import (
    MalformedMessage,
    SipRequest,
    parse,
    parse_name_addr,
    parse_via,
    reply,
    reply_address,
    split_commas,
)

SOURCE = ("203.0.113.7", 40123)


def request(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_compact_headers_no_space_folded_lines_and_a_via_without_port() -> None:
    message = parse(request("OPTIONS sip:127.0.0.1 SIP/2.0", "v:SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx",
                            "f:<sip:a@x>;tag=1", "t: <sip:b@x>", "i:abc", "CSeq:7 OPTIONS",
                            "Subject: one", "  two", "l:0"), SOURCE)
    assert isinstance(message, SipRequest)
    assert (message.method, message.uri, message.cseq) == ("OPTIONS", "sip:127.0.0.1", 7)
    assert (message.headers["Call-ID"], message.headers["Subject"]) == ("abc", "one two")
    hop = message.via[0]
    assert (hop.host, hop.port, hop.params["branch"]) == ("10.0.0.1", None, "z9hG4bKx")
    assert reply_address(message) == ("203.0.113.7", 5060)  # no rport: source address, Via port


def test_contacts_split_at_commas_outside_quotes_and_brackets() -> None:
    assert split_commas('"Doe, J" <sip:a@x;p=1,2>;expires=5, <sip:b@y>') == [
        '"Doe, J" <sip:a@x;p=1,2>;expires=5', "<sip:b@y>"]
    contact = parse_name_addr('"Doe, J" <sip:ana@10.0.0.1:5062;transport=udp>;expires=60')
    assert (contact.uri, contact.user, contact.host, contact.params["expires"]) == (
        "sip:ana@10.0.0.1:5062;transport=udp", "ana", "10.0.0.1", "60")


def test_the_reply_carries_received_and_rport_and_goes_to_the_source() -> None:
    message = parse(request("REGISTER sip:x SIP/2.0",
                            "Via: SIP/2.0/UDP 192.168.1.5:5062;rport;branch=z9hG4bKy",
                            "Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKz", "From: <sip:a@x>;tag=1",
                            "To: <sip:a@x>", "Call-ID: c", "CSeq: 1 REGISTER"), SOURCE)
    assert isinstance(message, SipRequest)
    assert reply_address(message) == SOURCE
    text = reply(message, 200, to_tag="t1").decode()
    vias = [line for line in text.split("\r\n") if line.startswith("Via:")]
    assert vias == ["Via: SIP/2.0/UDP 192.168.1.5:5062;rport=40123;branch=z9hG4bKy;received=203.0.113.7",
                    "Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKz"]
    assert "To: <sip:a@x>;tag=t1" in text and "CSeq: 1 REGISTER" in text


@pytest.mark.parametrize(("data", "fragment", "answerable"), [
    (request("REGISTER sip:x SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: <sip:a@x>"),
     "CSeq", True),
    (request("REGISTER sip:x SIP/2.0", "From: <sip:a@x>"), "without Via", False),
    (request("REGISTER sip:x SIP/2.0", "Via: nonsense"), "Via", False),
    (request("REGISTER sip:x SIP/2.0", "Via: SIP/2.0/UDP h:99x"), "port", False),
    (request("HELLO"), "not a SIP", False),
    (request("REGISTER sip:x SIP/2.0", "Via: SIP/2.0/UDP h", "bad header line"), "header line", False),
    (request("INVITE sip:x SIP/2.0", "Via: SIP/2.0/UDP h", "From: <sip:a@x>", "To: <sip:a@x>", "Call-ID: c",
             "CSeq: 1 REGISTER"), "CSeq method", True),
])
def test_malformed_datagrams(data: bytes, fragment: str, answerable: bool) -> None:
    with pytest.raises(MalformedMessage, match=fragment) as raised:
        parse(data, SOURCE)
    assert (raised.value.request is not None) == answerable
    if answerable:
        assert raised.value.request is not None
        assert reply(raised.value.request, 400).startswith(b"SIP/2.0 400 Bad Request\r\n")


def test_via_ipv6_sent_by() -> None:
    hop = parse_via("SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bK1")
    assert (hop.host, hop.port) == ("[2001:db8::1]", 5070)
