"""Edge protection of the SIP endpoint: per-source rate limiting and a ban after authentication failures.

What Kamailio's pike module and a fail2ban jail do in front of a PBX, done here
per datagram, before any parsing:

- every source IP address has a token bucket (`requests_per_s`, `burst`); a request
  from a source whose bucket is empty is dropped without an answer: a 503 would
  double the traffic of a flood, and a real client retransmits or backs off anyway.
  Responses are never limited (they answer what we sent).
- `ban_after_failures` authentication failures (digest credentials refused: a wrong
  password, an unknown user, a SIP account not allowed) from one address within
  `failure_window_s` ban it for `ban_s`: all its datagrams are dropped, responses included.
- `trusted` addresses (a SIP trunk, an SBC or a proxy in front) are neither limited nor banned;
  the [sip.trunk] address is one of them when it is written as an IP address.

Each limited source and each ban is logged once (a limited source at most once a
minute), so that a flood cannot fill the log. A value of 0 turns a limit off.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ringtui.config import Settings

log = logging.getLogger("ringtui.engine.sip")

LOG_EVERY_S = 60.0


@dataclass(frozen=True)
class EdgeLimits:
    requests_per_s: float = 50.0
    burst: int = 100
    ban_after_failures: int = 5
    failure_window_s: float = 60.0
    ban_s: float = 600.0
    trusted: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls, settings: Settings) -> EdgeLimits:
        """The [sip] limits of config.toml; the [sip.trunk] address is trusted too when it is an IP
        address (all inbound calls come from it: limiting it would drop calls, not attacks)."""
        trusted = set(settings.sip_trusted)
        trunk = settings.sip_trunk.host.strip("[]") if settings.sip_trunk is not None else ""
        with contextlib.suppress(ValueError):
            trusted.add(str(ipaddress.ip_address(trunk)))
        return cls(settings.sip_requests_per_s, settings.sip_burst, settings.sip_ban_after_failures,
                   settings.sip_failure_window_s, settings.sip_ban_s, frozenset(trusted))


@dataclass
class _Bucket:
    tokens: float
    at: float


class SourceGuard:
    """Decides per datagram whether a source may be served; counts what it dropped."""

    def __init__(self, limits: EdgeLimits = EdgeLimits(), *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.limited = 0  # requests dropped over the rate
        self.dropped_banned = 0  # datagrams dropped from banned sources
        self.banned: dict[str, float] = {}  # address -> banned until
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._failures: dict[str, deque[float]] = {}
        self._logged: dict[str, float] = {}  # address -> when its limiting was last logged

    def admit(self, host: str, *, request: bool) -> bool:
        """True when a datagram from `host` may go on (`request`: it is not a response)."""
        if host in self.limits.trusted:
            return True
        if self.banned:
            until = self.banned.get(host)
            if until is not None:
                if self._clock() < until:
                    self.dropped_banned += 1
                    return False
                del self.banned[host]
                log.warning("SIP ban of %s lifted", host)
        if not request or self.limits.requests_per_s <= 0:
            return True
        return self._take_token(host)

    def _take_token(self, host: str) -> bool:
        now, rate, burst = self._clock(), self.limits.requests_per_s, max(1, self.limits.burst)
        bucket = self._buckets.get(host)
        if bucket is None:
            self._buckets[host] = _Bucket(burst - 1.0, now)
            return True
        bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        self.limited += 1
        if now - self._logged.get(host, -LOG_EVERY_S) >= LOG_EVERY_S:
            self._logged[host] = now
            log.warning("SIP requests from %s over %g/s (burst %d): dropped (logged once a minute)",
                        host, rate, burst)
        return False

    def auth_failed(self, host: str) -> bool:
        """Count a refused authentication from `host`; True when this one bans it."""
        limit = self.limits.ban_after_failures
        if limit <= 0 or host in self.limits.trusted or host in self.banned:
            return False
        now = self._clock()
        failures = self._failures.setdefault(host, deque())
        failures.append(now)
        while failures and now - failures[0] > self.limits.failure_window_s:
            failures.popleft()
        if len(failures) < limit:
            return False
        del self._failures[host]
        self.banned[host] = now + self.limits.ban_s
        log.warning("SIP source %s banned for %g s after %d authentication failures in %g s",
                    host, self.limits.ban_s, limit, self.limits.failure_window_s)
        return True

    def sweep(self) -> None:
        """Forget what no longer matters: full buckets, old failures, ended bans, old log marks."""
        now = self._clock()
        rate = self.limits.requests_per_s
        refill_s = max(1, self.limits.burst) / rate if rate > 0 else 0.0
        for host in [h for h, b in self._buckets.items() if now - b.at >= refill_s]:
            del self._buckets[host]
        for host in [h for h, f in self._failures.items() if now - f[-1] > self.limits.failure_window_s]:
            del self._failures[host]
        for host in [h for h, until in self.banned.items() if now >= until]:
            del self.banned[host]
            log.warning("SIP ban of %s lifted", host)
        for host in [h for h, at in self._logged.items() if now - at >= LOG_EVERY_S]:
            del self._logged[host]

    def counts(self) -> dict[str, int]:
        return {"limited": self.limited, "dropped_banned": self.dropped_banned, "banned": len(self.banned),
                "sources": len(self._buckets)}

