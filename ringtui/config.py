"""Settings: command-line flag > environment variable > config.toml > default.

config.toml is looked up at --config PATH, then $RINGTUI_CONFIG, then
$XDG_CONFIG_HOME/ringtui/config.toml. The repository's config.toml documents
every key with its default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ringtui.errors import Invalid

APP_NAME = "ringtui"


def default_database_url() -> str:
    from platformdirs import user_data_path

    path = user_data_path(APP_NAME) / "ringtui.db"
    return f"sqlite:///{path}"


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME) / "config.toml"


@dataclass(frozen=True)
class TrunkSettings:
    """[sip.trunk]: the carrier's SIP trunk agents' outbound calls go through."""

    address: str  # HOST:PORT (port 5060 when left out)
    username: str = ""
    password: str = ""
    realm: str = ""  # answer only this realm's challenges; empty: the first challenge
    from_domain: str = ""  # domain of From / P-Asserted-Identity; empty: the trunk's host

    @property
    def host(self) -> str:
        return self.address.rpartition(":")[0] if ":" in self.address else self.address

    @property
    def port(self) -> int:
        port = self.address.rpartition(":")[2] if ":" in self.address else ""
        return int(port) if port.isdigit() else 5060


@dataclass(frozen=True)
class SmsSettings:
    """[sms]: what campaign SMS cost and the carrier they go out through (K1)."""

    adapter: str = "outbox"  # outbox (embedded: written to the SMS logs) or smpp
    prices: dict[str, Decimal] = field(default_factory=dict)  # ISO country -> price per fragment
    price_default: Decimal = Decimal("0.10")  # countries not listed
    carrier_rate: float = 50.0  # messages per second sent to the carrier (smpp); 0: no limit
    outbox_file: str = ""  # outbox: also append each SMS as a JSON line to this file
    smpp_host: str = "127.0.0.1"
    smpp_port: int = 2775
    smpp_system_id: str = ""
    smpp_password: str = ""

    def price(self, country: str | None) -> Decimal:
        return self.prices.get((country or "").upper(), self.price_default)


@dataclass(frozen=True)
class CampaignSettings:
    """[campaigns]: how the engine places the calls of call and voice campaigns (K2, K3)."""

    voice_channels: int = 10  # voice-message calls at once, all campaigns together
    ring_s: float = 30.0  # how long a customer's phone rings before the call is given up (no answer)


@dataclass(frozen=True)
class SmtpSettings:
    """[smtp]: the server `reports run-due` sends report e-mails through."""

    host: str
    port: int = 25
    sender: str = ""  # the From address; empty: ringtui@<host>
    starttls: bool = False
    username: str = ""  # empty: no login
    password: str = ""
    timeout_s: float = 30.0


@dataclass(frozen=True)
class Settings:
    database_url: str
    acting_user: str | None = None
    sip_domain: str = "ringtui.local"
    sip_requests_per_s: float = 50.0
    sip_burst: int = 100
    sip_ban_after_failures: int = 5
    sip_failure_window_s: float = 60.0
    sip_ban_s: float = 600.0
    sip_trusted: tuple[str, ...] = ()
    sqlite_busy_timeout_ms: int = 5000
    porting_days: dict[str, int] = field(default_factory=dict)
    porting_days_default: int = 30
    engine_ws: str = "127.0.0.1:8765"
    engine_sip: str = "127.0.0.1:5060"
    engine_token_file: Path | None = None
    config_path: Path | None = None
    smtp: SmtpSettings | None = None  # None: `reports run-due` writes files to --out-dir
    reports_out_dir: Path | None = None  # [reports] out_dir: run-due's --out-dir when not given
    tui_ascii: bool = False
    tui_refresh_hz: float = 10.0
    tui_keys: dict[str, str] = field(default_factory=dict)
    sip_trunk: TrunkSettings | None = None  # None: no trunk, outbound SIP calls get 503
    sms: SmsSettings = field(default_factory=SmsSettings)
    campaigns: CampaignSettings = field(default_factory=CampaignSettings)

    @property
    def token_file(self) -> Path:
        """Where the engine writes its local token (default: beside the default database)."""
        from platformdirs import user_data_path

        return self.engine_token_file or user_data_path(APP_NAME) / "engine.token"


# (section, key) -> (environment variable or None, default)
_KEYS: dict[tuple[str, str], tuple[str | None, Any]] = {
    ("database", "url"): ("RINGTUI_DATABASE_URL", None),
    ("database", "sqlite_busy_timeout_ms"): (None, 5000),
    ("account", "acting_user"): ("RINGTUI_USER", None),
    ("sip", "domain"): ("RINGTUI_SIP_DOMAIN", "ringtui.local"),
    ("sip", "requests_per_s"): (None, 50),
    ("sip", "burst"): (None, 100),
    ("sip", "ban_after_failures"): (None, 5),
    ("sip", "failure_window_s"): (None, 60),
    ("sip", "ban_s"): (None, 600),
    ("sip", "trusted"): (None, []),
    ("numbers", "porting_days_default"): (None, 30),
    ("engine", "ws"): ("RINGTUI_ENGINE_WS", "127.0.0.1:8765"),
    ("engine", "sip"): ("RINGTUI_ENGINE_SIP", "127.0.0.1:5060"),
    ("engine", "token_file"): ("RINGTUI_ENGINE_TOKEN_FILE", None),
    ("numbers", "porting_days"): (None, {"FR": 10, "BE": 10, "ES": 15, "GB": 15, "US": 30}),
    ("smtp", "host"): ("RINGTUI_SMTP_HOST", ""),
    ("smtp", "port"): ("RINGTUI_SMTP_PORT", 25),
    ("smtp", "from"): ("RINGTUI_SMTP_FROM", ""),
    ("smtp", "starttls"): ("RINGTUI_SMTP_STARTTLS", False),
    ("smtp", "username"): ("RINGTUI_SMTP_USERNAME", ""),
    ("smtp", "password"): ("RINGTUI_SMTP_PASSWORD", ""),
    ("smtp", "timeout_s"): (None, 30),
    ("reports", "out_dir"): ("RINGTUI_REPORTS_OUT_DIR", ""),
    ("sip", "trunk"): (None, {"address": "", "username": "", "password": "", "realm": "", "from_domain": ""}),
    ("tui", "ascii"): ("RINGTUI_ASCII", False),
    ("tui", "refresh_hz"): (None, 10),
    ("tui", "keys"): (None, {}),
    ("sms", "adapter"): ("RINGTUI_SMS_ADAPTER", "outbox"),
    ("sms", "price_default"): (None, "0.10"),
    ("sms", "prices"): (None, {"FR": "0.05", "BE": "0.06", "ES": "0.05", "GB": "0.04", "US": "0.01"}),
    ("sms", "carrier_rate"): (None, 50),
    ("sms", "outbox_file"): (None, ""),
    ("campaigns", "voice_channels"): (None, 10),
    ("campaigns", "ring_s"): (None, 30),
    ("sms", "smpp"): (None, {"host": "127.0.0.1", "port": 2775, "system_id": "", "password": ""}),
}


_TRUNK_ENV = {"address": "RINGTUI_SIP_TRUNK", "username": "RINGTUI_SIP_TRUNK_USERNAME",
              "password": "RINGTUI_SIP_TRUNK_PASSWORD"}


def _trunk(table: dict[str, Any]) -> TrunkSettings | None:
    """[sip.trunk] of config.toml, each key overridden by its environment variable."""
    keys = {key: str(os.environ.get(_TRUNK_ENV.get(key, ""), "") or table.get(key, "") or "")
            for key in ("address", "username", "password", "realm", "from_domain")}
    if not keys["address"]:
        return None
    host, colon, port = keys["address"].rpartition(":")
    if colon and (not host or not port.isdigit()):
        raise Invalid(f"[sip.trunk] address {keys['address']!r}: expected HOST or HOST:PORT")
    return TrunkSettings(**keys)


def _smtp(value: Any) -> SmtpSettings | None:
    """[smtp] with each key's environment override; None when no host is set."""
    host = str(value("smtp", "host") or "").strip()
    if not host:
        return None
    port, timeout, starttls = value("smtp", "port"), value("smtp", "timeout_s"), value("smtp", "starttls")
    if not str(port).isdigit() or not 0 < int(port) < 65536:
        raise Invalid(f"[smtp] port {port!r}: give a TCP port 1..65535 (25, 465 or 587 usually)")
    if isinstance(starttls, str):
        starttls = starttls.strip().lower() in ("1", "true", "yes", "on")
    return SmtpSettings(host=host, port=int(port), sender=str(value("smtp", "from") or ""),
                        starttls=bool(starttls), username=str(value("smtp", "username") or ""),
                        password=str(value("smtp", "password") or ""), timeout_s=float(timeout))


def _read_file(path: Path | None, explicit: bool) -> dict[str, Any]:
    if path is None or not path.exists():
        if explicit:
            raise Invalid(f"config file {path} does not exist")
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise Invalid(f"config file {path} is not valid TOML: {error}") from error


def load_settings(
    *, config_path: str | None = None, database_url: str | None = None, acting_user: str | None = None
) -> Settings:
    explicit = config_path or os.environ.get("RINGTUI_CONFIG")
    path = Path(explicit) if explicit else default_config_path()
    document = _read_file(path, explicit=bool(explicit))
    flags = {("database", "url"): database_url, ("account", "acting_user"): acting_user}

    def value(section: str, key: str) -> Any:
        env_name, default = _KEYS[(section, key)]
        if flags.get((section, key)):
            return flags[(section, key)]
        if env_name and os.environ.get(env_name):
            return os.environ[env_name]
        return document.get(section, {}).get(key, default)

    return Settings(
        database_url=value("database", "url") or default_database_url(),
        acting_user=value("account", "acting_user") or None,
        sip_domain=value("sip", "domain"),
        sip_requests_per_s=_at_least_zero(value, "requests_per_s", float),
        sip_burst=_at_least_zero(value, "burst", int),
        sip_ban_after_failures=_at_least_zero(value, "ban_after_failures", int),
        sip_failure_window_s=_at_least_zero(value, "failure_window_s", float),
        sip_ban_s=_at_least_zero(value, "ban_s", float),
        sip_trusted=_addresses(value("sip", "trusted")),
        sqlite_busy_timeout_ms=int(value("database", "sqlite_busy_timeout_ms")),
        porting_days={k.upper(): int(v) for k, v in value("numbers", "porting_days").items()},
        porting_days_default=int(value("numbers", "porting_days_default")),
        engine_ws=value("engine", "ws"),
        engine_sip=value("engine", "sip"),
        engine_token_file=Path(value("engine", "token_file")).expanduser()
        if value("engine", "token_file") else None,
        config_path=path if path.exists() else None,
        smtp=_smtp(value),
        reports_out_dir=Path(value("reports", "out_dir")).expanduser()
        if value("reports", "out_dir") else None,
        sip_trunk=_trunk(value("sip", "trunk")),
        tui_ascii=_flag(value("tui", "ascii")),
        tui_refresh_hz=float(value("tui", "refresh_hz")),
        tui_keys=dict(value("tui", "keys")),
        sms=_sms(value),
        campaigns=_campaigns(value),
    )


_SMS_ADAPTERS = ("outbox", "smpp")


def _money(raw: Any, where: str) -> Decimal:
    try:
        price = Decimal(str(raw))
    except ArithmeticError:
        raise Invalid(f"[sms] {where} = {raw!r}: expected a price such as 0.05") from None
    if not price.is_finite() or price < 0:
        raise Invalid(f"[sms] {where} = {raw!r}: expected a price >= 0")
    return price


def _sms(value: Any) -> SmsSettings:
    """[sms] and [sms.smpp] of config.toml."""
    adapter = str(value("sms", "adapter")).strip().lower()
    if adapter not in _SMS_ADAPTERS:
        raise Invalid(f"[sms] adapter = {adapter!r}: expected one of {', '.join(_SMS_ADAPTERS)}")
    rate = value("sms", "carrier_rate")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 0:
        raise Invalid(f"[sms] carrier_rate = {rate!r}: expected messages per second >= 0")
    smpp = dict(value("sms", "smpp"))
    port = smpp.get("port", 2775)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise Invalid(f"[sms.smpp] port = {port!r}: expected a TCP port 1-65535")
    for key, longest in (("system_id", 15), ("password", 8)):  # SMPP 3.4 field sizes
        if len(str(smpp.get(key, ""))) > longest:
            raise Invalid(f"[sms.smpp] {key} is {len(str(smpp[key]))} characters long; SMPP allows at most "
                          f"{longest}")
    return SmsSettings(
        adapter=adapter,
        prices={str(k).upper(): _money(v, f"prices.{k}") for k, v in value("sms", "prices").items()},
        price_default=_money(value("sms", "price_default"), "price_default"),
        carrier_rate=float(rate),
        outbox_file=str(value("sms", "outbox_file") or ""),
        smpp_host=str(smpp.get("host", "127.0.0.1")),
        smpp_port=port,
        smpp_system_id=str(smpp.get("system_id", "")),
        smpp_password=str(smpp.get("password", "")),
    )


def _campaigns(value: Any) -> CampaignSettings:
    channels, ring = value("campaigns", "voice_channels"), value("campaigns", "ring_s")
    if not str(channels).isdigit() or int(channels) < 1:
        raise Invalid(f"[campaigns] voice_channels = {channels!r}: expected a whole number >= 1")
    try:
        ring_s = float(ring)
    except (TypeError, ValueError):
        ring_s = -1.0
    if not 1 <= ring_s <= 300:
        raise Invalid(f"[campaigns] ring_s = {ring!r}: expected seconds from 1 to 300")
    return CampaignSettings(voice_channels=int(channels), ring_s=ring_s)


def _flag(raw: Any) -> bool:
    """A boolean from TOML (true/false) or the environment ("1", "true", "yes")."""
    if isinstance(raw, str):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return bool(raw)


def _at_least_zero(value: Any, key: str, kind: type[int] | type[float]) -> Any:
    """A [sip] limit: a number >= 0 (0 turns the limit off)."""
    raw = value("sip", key)
    if (isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0
            or (kind is int and raw != int(raw))):
        what = "an integer" if kind is int else "a number"
        raise Invalid(f"[sip] {key} = {raw!r}: expected {what} >= 0")
    return kind(raw)


def _addresses(raw: Any) -> tuple[str, ...]:
    """[sip] trusted: IP addresses, as the endpoint sees sources (IPv6 in its compressed form)."""
    import ipaddress

    if not isinstance(raw, list):
        raise Invalid(f"[sip] trusted = {raw!r} is not a list of IP addresses")
    try:
        return tuple(str(ipaddress.ip_address(str(item).strip())) for item in raw)
    except ValueError as error:
        raise Invalid(f"[sip] trusted: {error}") from None
