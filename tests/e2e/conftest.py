"""Fixtures shared by the SIP end-to-end tests."""

from __future__ import annotations

import pytest

from tests.e2e.test_sip_registrar import free_udp_port

TRUNK_USER, TRUNK_PASSWORD = "trunkuser", "trunkpass"  # what the SIPp carrier's scenarios accept


@pytest.fixture
def trunk(monkeypatch) -> int:
    """[sip.trunk] points at a free port of 127.0.0.1 (where the test's carrier listens), with credentials."""
    port = free_udp_port()
    monkeypatch.setenv("RINGTUI_SIP_TRUNK", f"127.0.0.1:{port}")
    monkeypatch.setenv("RINGTUI_SIP_TRUNK_USERNAME", TRUNK_USER)
    monkeypatch.setenv("RINGTUI_SIP_TRUNK_PASSWORD", TRUNK_PASSWORD)
    return port
