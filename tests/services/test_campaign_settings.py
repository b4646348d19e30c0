"""[sms] and [sms.smpp] of config.toml: defaults, overrides, and each bad value named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ringtui.config import load_settings
from ringtui.errors import Invalid


def settings_from(tmp_path: Path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings(config_path=str(path), database_url="sqlite://").sms


def test_defaults_and_overrides(tmp_path, monkeypatch):
    sms = settings_from(tmp_path, "")
    assert (sms.adapter, sms.carrier_rate, sms.price("FR"), sms.price("JP")) == (
        "outbox", 50.0, Decimal("0.05"), Decimal("0.10"))
    sms = settings_from(tmp_path, '[sms]\nadapter = "smpp"\ncarrier_rate = 10\n[sms.prices]\njp = 0.2\n'
                                  '[sms.smpp]\nhost = "10.0.0.5"\nport = 2776\nsystem_id = "acme"\n'
                                  'password = "pw"\n')
    assert (sms.adapter, sms.carrier_rate, sms.price("JP"), sms.price("FR")) == (
        "smpp", 10.0, Decimal("0.2"), Decimal("0.10"))
    assert (sms.smpp_host, sms.smpp_port, sms.smpp_system_id, sms.smpp_password) == (
        "10.0.0.5", 2776, "acme", "pw")
    monkeypatch.setenv("RINGTUI_SMS_ADAPTER", "outbox")
    assert settings_from(tmp_path, '[sms]\nadapter = "smpp"\n').adapter == "outbox"


@pytest.mark.parametrize(("text", "fragments"), [
    ('[sms]\nadapter = "http"\n', ("'http'", "outbox, smpp")),
    ("[sms]\ncarrier_rate = -1\n", ("carrier_rate", "-1")),
    ('[sms]\nprice_default = "cheap"\n', ("price_default", "'cheap'")),
    ("[sms.prices]\nFR = -0.05\n", ("prices.FR", ">= 0")),
    ("[sms.smpp]\nport = 70000\n", ("port", "70000")),
    ('[sms.smpp]\npassword = "far too long"\n', ("password", "12 characters", "at most 8")),
    ('[sms.smpp]\nsystem_id = "a-very-long-system-id"\n', ("system_id", "at most 15")),
])
def test_bad_values_are_named(tmp_path, text, fragments):
    with pytest.raises(Invalid) as error:
        settings_from(tmp_path, text)
    for fragment in fragments:
        assert fragment in str(error.value)
