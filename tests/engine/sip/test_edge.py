"""Edge protection with an injected clock: token buckets per source, bans after authentication
failures, trusted sources, what is logged; and the endpoint dropping before it parses."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from ringtui.config import load_settings
from ringtui.engine.sip.edge import EdgeLimits, SourceGuard
from ringtui.engine.sip.transport import SipEndpoint
from ringtui.errors import Invalid
from tests.engine.conftest import Wire

FLOODER, PHONE, TRUNK = "198.51.100.9", "203.0.113.7", "192.0.2.50"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def guard(**limits: object) -> tuple[SourceGuard, FakeTime]:
    clock = FakeTime()
    return SourceGuard(EdgeLimits(**limits), clock=clock), clock  # type: ignore[arg-type]


def admitted(edge: SourceGuard, host: str, count: int, *, request: bool = True) -> int:
    return sum(edge.admit(host, request=request) for _ in range(count))


def test_a_source_gets_its_burst_then_its_rate_and_others_are_untouched() -> None:
    edge, clock = guard(requests_per_s=10, burst=20)
    assert admitted(edge, FLOODER, 100) == 20
    assert admitted(edge, PHONE, 5) == 5
    clock.now += 0.5  # five tokens back
    assert admitted(edge, FLOODER, 100) == 5
    clock.now += 60  # a full bucket, never more than the burst
    assert admitted(edge, FLOODER, 100) == 20
    assert edge.limited == 80 + 95 + 80


def test_responses_are_never_limited_and_zero_turns_the_limit_off() -> None:
    edge, _ = guard(requests_per_s=1, burst=1)
    assert admitted(edge, FLOODER, 1) == 1
    assert admitted(edge, FLOODER, 50, request=False) == 50
    unlimited, _ = guard(requests_per_s=0)
    assert admitted(unlimited, FLOODER, 10_000) == 10_000


def test_failures_within_the_window_ban_the_source_until_the_ban_ends() -> None:
    edge, clock = guard(ban_after_failures=3, failure_window_s=60, ban_s=600)
    assert [edge.auth_failed(FLOODER) for _ in range(3)] == [False, False, True]
    assert admitted(edge, FLOODER, 5) == 0 and admitted(edge, FLOODER, 5, request=False) == 0
    assert edge.dropped_banned == 10
    assert admitted(edge, PHONE, 5) == 5
    clock.now += 599
    assert not edge.admit(FLOODER, request=True)
    clock.now += 1
    assert edge.admit(FLOODER, request=True)
    assert edge.banned == {}


def test_failures_spread_wider_than_the_window_do_not_ban() -> None:
    edge, clock = guard(ban_after_failures=3, failure_window_s=60)
    for _ in range(10):
        assert not edge.auth_failed(PHONE)
        clock.now += 31  # two failures a minute: a phone with a stale password, not an attack
    assert edge.admit(PHONE, request=True)


def test_trusted_sources_are_neither_limited_nor_banned() -> None:
    edge, _ = guard(requests_per_s=1, burst=1, ban_after_failures=1, trusted=frozenset({TRUNK}))
    assert admitted(edge, TRUNK, 1000) == 1000
    assert not edge.auth_failed(TRUNK)
    assert edge.auth_failed(FLOODER) and not edge.admit(FLOODER, request=False)
    off, _ = guard(ban_after_failures=0)
    assert not any(off.auth_failed(FLOODER) for _ in range(100))


def test_limiting_is_logged_once_a_minute_per_source_and_a_ban_once(caplog) -> None:
    caplog.set_level(logging.WARNING, "ringtui.engine.sip")
    edge, clock = guard(requests_per_s=1, burst=1, ban_after_failures=2, ban_s=30)
    admitted(edge, FLOODER, 1000)
    admitted(edge, PHONE, 1000)
    clock.now += 30
    admitted(edge, FLOODER, 1000)
    edge.auth_failed(FLOODER)
    edge.auth_failed(FLOODER)
    admitted(edge, FLOODER, 1000)
    assert [r.getMessage().split(" over ")[0].split(" banned")[0] for r in caplog.records] == [
        f"SIP requests from {FLOODER}", f"SIP requests from {PHONE}", f"SIP source {FLOODER}"]
    clock.now += 31
    edge.sweep()
    assert caplog.records[-1].getMessage() == f"SIP ban of {FLOODER} lifted"


def test_sweep_forgets_idle_sources_so_spoofed_floods_do_not_grow_memory() -> None:
    edge, clock = guard(requests_per_s=10, burst=20)
    for n in range(1000):
        edge.admit(f"10.0.{n // 250}.{n % 250}", request=True)
    edge.auth_failed(PHONE)
    assert edge.counts()["sources"] == 1000
    clock.now += 61
    edge.sweep()
    assert edge.counts() == {"limited": 0, "dropped_banned": 0, "banned": 0, "sources": 0}
    assert edge._failures == {}


def options(branch: str) -> bytes:
    return (f"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK{branch}\r\n"
            "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n").encode()


def test_the_endpoint_drops_over_the_limit_before_parsing_and_survives_parser_bugs(monkeypatch) -> None:
    async def scenario() -> tuple[int, int]:
        served = 0

        async def handler(request):
            nonlocal served
            served += 1
            return None

        clock = FakeTime()
        endpoint = SipEndpoint(handler, guard=SourceGuard(EdgeLimits(requests_per_s=1, burst=3), clock=clock))
        endpoint.connection_made(Wire())  # type: ignore[arg-type]
        for n in range(10):
            endpoint.datagram_received(options(str(n)), (FLOODER, 5099))
            endpoint.datagram_received(b"garbage", (FLOODER, 5099))
        await asyncio.sleep(0)

        def broken(data, source):
            raise IndexError("a parser bug")

        monkeypatch.setattr("ringtui.engine.sip.transport.parse", broken)
        endpoint.datagram_received(options("x"), (PHONE, 5099))  # no exception escapes
        return served, endpoint.malformed

    served, malformed = asyncio.run(scenario())
    assert (served, malformed) == (2, 2)  # 3 tokens: OPTIONS, garbage, OPTIONS; then the bug


def test_the_limits_come_from_config_toml(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[sip]\nrequests_per_s = 5.5\nburst = 7\nban_after_failures = 0\n'
                      'trusted = ["192.0.2.50", "2001:db8:0::1"]\n')
    limits = EdgeLimits.from_settings(load_settings(config_path=str(config)))
    assert limits == EdgeLimits(5.5, 7, 0, 60.0, 600.0, frozenset({TRUNK, "2001:db8::1"}))


def test_the_trunk_is_trusted_when_its_address_is_an_ip_address(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    for address, trusted in (("192.0.2.50:5080", {TRUNK}), ("192.0.2.50", {TRUNK}),
                             ("[2001:db8::7]:5060", {"2001:db8::7"}), ("sip.carrier.example:5060", set())):
        config.write_text(f'[sip.trunk]\naddress = "{address}"\n')
        assert EdgeLimits.from_settings(load_settings(config_path=str(config))).trusted == trusted, address


@pytest.mark.parametrize(("line", "message"), [
    ("requests_per_s = -1", r"\[sip\] requests_per_s = -1: expected a number >= 0"),
    ("burst = 2.5", r"\[sip\] burst = 2.5: expected an integer >= 0"),
    ('ban_s = "ten"', r"\[sip\] ban_s = 'ten': expected a number >= 0"),
    ('trusted = ["trunk.example"]', r"\[sip\] trusted: 'trunk.example' does not appear to be an IP"),
    ('trusted = "192.0.2.50"', r"\[sip\] trusted = '192.0.2.50' is not a list"),
])
def test_bad_limits_are_refused_naming_the_key_and_value(tmp_path: Path, line: str, message: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[sip]\n{line}\n")
    with pytest.raises(Invalid, match=message):
        load_settings(config_path=str(config))
