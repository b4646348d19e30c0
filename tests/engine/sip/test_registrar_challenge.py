"""The registrar's challenge offers what the phone can answer: MD5 and SHA-256 (RFC 8760), or MD5
alone to baresip, whose digest client (1.x) fails the whole REGISTER beside a SHA-256 challenge."""

from __future__ import annotations

import asyncio

import pytest

from ringtui.engine.sip.message import SipRequest, parse
from ringtui.engine.sip.registrar import Registrar


class Nobody:
    def connected(self, email: str, user_agent: str) -> None: ...

    def disconnected(self, email: str) -> None: ...


def register(user_agent: str) -> SipRequest:
    lines = ["REGISTER sip:127.0.0.1 SIP/2.0", "Via: SIP/2.0/UDP 127.0.0.1:5065;branch=z9hG4bKreg;rport",
             "From: <sip:ana@127.0.0.1>;tag=a", "To: <sip:ana@127.0.0.1>", "Call-ID: reg-1",
             "CSeq: 1 REGISTER",
             "Contact: <sip:ana@127.0.0.1:5065>", f"User-Agent: {user_agent}", "Content-Length: 0"]
    message = parse(("\r\n".join(lines) + "\r\n\r\n").encode(), ("127.0.0.1", 5065))
    assert isinstance(message, SipRequest)
    return message


@pytest.mark.parametrize(("user_agent", "algorithms"), [
    ("baresip v1.0.0 (x86_64/linux)", ["MD5"]),
    ("baresip v0.6.6 (arm/linux)", ["MD5"]),
    ("baresip v3.10.1 (x86_64/linux)", ["MD5"]),  # libre-based too: not tried with SHA-256 here
    ("SIPp test phone", ["MD5", "SHA-256"]),
    ("Linphone/5.2", ["MD5", "SHA-256"]),
])
def test_the_challenge_offers_the_algorithms_the_phone_can_answer(user_agent, algorithms):
    no_database = None  # a REGISTER without credentials is challenged before any look-up
    registrar = Registrar(no_database, realm="ringtui.local", domains={"127.0.0.1"}, presence=Nobody())
    response = asyncio.run(registrar.register(register(user_agent))).decode()
    assert response.startswith("SIP/2.0 401 ")
    offered = [line.split("algorithm=")[1].split(",")[0] for line in response.splitlines()
               if line.startswith("WWW-Authenticate:")]
    assert offered == algorithms
