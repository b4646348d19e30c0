"""Digest authentication for SIP (RFC 2617, RFC 8760: MD5 and SHA-256, qop=auth).

Nonces carry their own issue time and an HMAC, so any nonce can be checked
without remembering it (it survives the dialog, and a forged or altered nonce
is refused); only the highest nonce count seen per live nonce is remembered,
to refuse replays, and forgotten once the nonce is too old to be accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "SHA-256": hashlib.sha256,
    "MD5": hashlib.md5,
}
# RFC 8760 2.4: one challenge per algorithm, most preferred first. MD5 leads by default because
# clients that know only MD5 (SIPp 3.6, many desk phones) give up on a SHA-256 first challenge
# instead of skipping it; a client that prefers SHA-256 still finds it and is accepted.
OFFERED = ("MD5", "SHA-256")
NONCE_TTL_S = 300.0

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*(?:,|$)')


def hash_hex(algorithm: str, text: str) -> str:
    return ALGORITHMS[algorithm](text.encode()).hexdigest()


def digest_response(*, algorithm: str, username: str, realm: str, password: str, method: str, uri: str,
                    nonce: str, qop: str | None = None, nc: str = "", cnonce: str = "") -> str:
    """The `response` value a client with this password sends (qop=auth or no qop)."""
    ha1 = hash_hex(algorithm, f"{username}:{realm}:{password}")
    ha2 = hash_hex(algorithm, f"{method}:{uri}")
    if qop:
        return hash_hex(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return hash_hex(algorithm, f"{ha1}:{nonce}:{ha2}")


@dataclass(frozen=True)
class Credentials:
    """A parsed `Authorization: Digest ...` header."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    qop: str | None = None
    nc: str = ""
    cnonce: str = ""

    @property
    def count(self) -> int:
        """The nonce count; a request without qop may use its nonce once."""
        return int(self.nc, 16) if self.qop else 1


class Malformed(ValueError):
    """An Authorization header that cannot be read as digest credentials."""


def _digest_params(header: str, what: str) -> dict[str, str]:
    """The name=value pairs of a `Digest ...` header value (names lower-cased, quotes removed)."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise Malformed(f"{what} scheme {scheme!r}: only Digest is accepted")
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None or match.end() == position:
            raise Malformed(f"unreadable digest parameters near {rest[position:position + 20]!r}")
        name, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[name] = value
        position = match.end()
    return params


def parse_authorization(header: str) -> Credentials:
    params = _digest_params(header, "authorization")
    missing = [name for name in ("username", "realm", "nonce", "uri", "response") if name not in params]
    if missing:
        raise Malformed(f"digest credentials lack {', '.join(missing)}")
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm not in ALGORITHMS:
        raise Malformed(f"digest algorithm {algorithm!r}: accepted {', '.join(ALGORITHMS)}")
    qop = params.get("qop")
    if qop is not None and qop.lower() != "auth":
        raise Malformed(f"qop {qop!r}: only auth is accepted")
    nc = params.get("nc", "")
    if qop and (not nc or not re.fullmatch(r"[0-9a-fA-F]{1,8}", nc) or "cnonce" not in params):
        raise Malformed("qop=auth needs nc (8 hex digits) and cnonce")
    return Credentials(username=params["username"], realm=params["realm"], nonce=params["nonce"],
                       uri=params["uri"], response=params["response"].lower(), algorithm=algorithm,
                       qop=qop.lower() if qop else None, nc=nc, cnonce=params.get("cnonce", ""))


def response_matches(credentials: Credentials, password: str, method: str) -> bool:
    expected = digest_response(algorithm=credentials.algorithm, username=credentials.username,
                               realm=credentials.realm, password=password, method=method,
                               uri=credentials.uri, nonce=credentials.nonce, qop=credentials.qop,
                               nc=credentials.nc, cnonce=credentials.cnonce)
    return hmac.compare_digest(expected, credentials.response)


class NonceCheck(Enum):
    FRESH = "fresh"
    STALE = "stale"        # ours, but too old: the client retries with the same password (stale=true)
    FOREIGN = "foreign"    # not issued by this server (or altered)
    REPLAYED = "replayed"  # nonce count not above the highest already accepted


class NonceStore:
    """Issues nonces `<time hex>.<random hex>.<hmac hex>` and checks them without a table of nonces.

    A nonce is accepted while younger than `ttl_s`; each accepted use must carry a
    higher nonce count than the one before (RFC 2617 3.2.2, replay protection).
    """

    def __init__(self, *, ttl_s: float = NONCE_TTL_S, secret: bytes | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.ttl_s = ttl_s
        self._secret = secret or secrets.token_bytes(32)
        self._clock = clock
        self._counts: dict[str, tuple[float, int]] = {}  # nonce -> (issued at, highest count accepted)
        self._pruned_at = clock()

    def issue(self) -> str:
        body = f"{int(self._clock() * 1000):x}.{secrets.token_hex(8)}"
        return f"{body}.{self._mac(body)}"

    def check(self, nonce: str, count: int) -> NonceCheck:
        """Validate a nonce and record its count when it is accepted."""
        issued_at = self._issued_at(nonce)
        if issued_at is None:
            return NonceCheck.FOREIGN
        now = self._clock()
        self._forget_older_than(now - self.ttl_s)
        if now - issued_at > self.ttl_s:
            return NonceCheck.STALE
        _, highest = self._counts.get(nonce, (issued_at, 0))
        if count <= highest:
            return NonceCheck.REPLAYED
        self._counts[nonce] = (issued_at, count)
        return NonceCheck.FRESH

    def __len__(self) -> int:
        return len(self._counts)

    def _mac(self, body: str) -> str:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()[:32]

    def _issued_at(self, nonce: str) -> float | None:
        body, _, mac = nonce.rpartition(".")
        stamp = body.partition(".")[0]
        if not body or not hmac.compare_digest(self._mac(body), mac):
            return None
        try:
            return int(stamp, 16) / 1000
        except ValueError:
            return None

    def _forget_older_than(self, limit: float) -> None:
        # at most ten sweeps per lifetime of a nonce: the table stays small without a sweep per request
        if limit + self.ttl_s - self._pruned_at < self.ttl_s / 10:
            return
        self._pruned_at = limit + self.ttl_s
        for nonce in [n for n, (issued, _) in self._counts.items() if issued < limit]:
            del self._counts[nonce]


def challenges(realm: str, nonce: str, *, stale: bool = False,
               algorithms: tuple[str, ...] = OFFERED) -> list[str]:
    """One WWW-Authenticate value per algorithm, in the order given (RFC 8760)."""
    suffix = ", stale=true" if stale else ""
    return [f'Digest realm="{realm}", nonce="{nonce}", algorithm={algorithm}, qop="auth"{suffix}'
            for algorithm in algorithms]


# ------------------------------------------------------------ the client side (answering a trunk's challenge)


@dataclass(frozen=True)
class Challenge:
    """A parsed `WWW-Authenticate` / `Proxy-Authenticate: Digest ...` value."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None


_CHALLENGE_START = re.compile(r",\s*(?=digest\s)", re.IGNORECASE)


def split_challenges(values: list[str]) -> list[str]:
    """One string per challenge: the message parser splits WWW-Authenticate at every comma, as a list
    header, so the values are joined again and cut where a challenge starts."""
    return [part for part in _CHALLENGE_START.split(", ".join(values)) if part.strip()]


def parse_challenge(header: str) -> Challenge:
    params = _digest_params(header, "challenge")
    if "realm" not in params or "nonce" not in params:
        raise Malformed("a digest challenge needs realm and nonce")
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm not in ALGORITHMS:
        raise Malformed(f"digest algorithm {algorithm!r}: supported {', '.join(ALGORITHMS)}")
    qop = tuple(part.strip().lower() for part in params.get("qop", "").split(",") if part.strip())
    return Challenge(realm=params["realm"], nonce=params["nonce"], algorithm=algorithm, qop=qop,
                     opaque=params.get("opaque"))


def authorization(challenge: Challenge, *, username: str, password: str, method: str, uri: str,
                  cnonce: str | None = None) -> str:
    """The Authorization / Proxy-Authorization value answering `challenge` (qop=auth when offered)."""
    qop = "auth" if "auth" in challenge.qop else None
    if challenge.qop and qop is None:
        raise Malformed(f"qop {', '.join(challenge.qop)!r}: only auth is supported")
    cnonce = cnonce or secrets.token_hex(8)
    response = digest_response(algorithm=challenge.algorithm, username=username, realm=challenge.realm,
                               password=password, method=method, uri=uri, nonce=challenge.nonce, qop=qop,
                               nc="00000001", cnonce=cnonce)
    parts = [f'username="{_quote(username)}"', f'realm="{_quote(challenge.realm)}"',
             f'nonce="{_quote(challenge.nonce)}"', f'uri="{uri}"', f'response="{response}"',
             f"algorithm={challenge.algorithm}"]
    if qop:
        parts += [f"qop={qop}", "nc=00000001", f'cnonce="{cnonce}"']
    if challenge.opaque is not None:
        parts.append(f'opaque="{_quote(challenge.opaque)}"')
    return "Digest " + ", ".join(parts)


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
