"""The registrar (RFC 3261 10.3): digest-authenticated REGISTER, bindings kept in the database.

Every refusal of credentials is the same 403, whether the user is unknown, the
password wrong or the SIP account not allowed (U4 "sip_account"), so that
nobody can learn which SIP usernames exist. A user whose first binding appears
is connected for the engine (interface "sip"); disconnected when the last one
goes, by un-REGISTER or expiry.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Protocol

from sqlalchemy import Engine

from ringtui.engine.sip.bindings import (
    DUMMY_PASSWORD,
    Binding,
    SipAccount,
    load_bindings,
    replace_bindings,
    sip_account,
)
from ringtui.engine.sip.digest import (
    OFFERED,
    Malformed,
    NonceCheck,
    NonceStore,
    challenges,
    parse_authorization,
    response_matches,
)
from ringtui.engine.sip.message import MalformedMessage, SipRequest, header_values, parse_name_addr, reply

log = logging.getLogger("ringtui.engine.sip")
# Phones whose digest client fails on a challenge it cannot answer instead of answering the one it can
# (libre: baresip 1.x says "Function not implemented" and never registers; later ones untried): MD5 only.
MD5_ONLY = re.compile(r"baresip\b", re.IGNORECASE)


@dataclass(frozen=True)
class RegistrarOptions:
    min_expires_s: int = 60
    max_expires_s: int = 3600
    default_expires_s: int = 3600
    nonce_ttl_s: float = 300.0
    algorithms: tuple[str, ...] = OFFERED  # order of the challenges (RFC 8760: most preferred first)


class Presence(Protocol):
    """What the registrar tells the engine."""

    def connected(self, email: str, user_agent: str) -> None: ...

    def disconnected(self, email: str) -> None: ...


class Refused(Exception):
    """A REGISTER answered with an error (the response is ready)."""

    def __init__(self, response: bytes) -> None:
        self.response = response


class Registrar:
    def __init__(self, database: Engine, *, realm: str, domains: Collection[str], presence: Presence,
                 options: RegistrarOptions = RegistrarOptions(),
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 on_auth_failure: Callable[[str], object] = lambda address: None) -> None:
        self.database = database
        self.realm = realm
        self.domains = {domain.lower() for domain in domains}
        self.presence = presence
        self.options = options
        self.nonces = NonceStore(ttl_s=options.nonce_ttl_s)
        self.bindings: dict[str, dict[str, Binding]] = {}  # e-mail -> contact URI -> binding
        self._now = now
        self._on_auth_failure = on_auth_failure  # the source address (edge.py bans repeat offenders)
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------ life cycle

    async def restore(self) -> int:
        """Load the stored bindings (dropping the expired ones); their users are connected again."""
        stored = await asyncio.to_thread(load_bindings, self.database, self._now())
        for binding in stored:
            self.bindings.setdefault(binding.email, {})[binding.contact_uri] = binding
        for email, contacts in self.bindings.items():
            self.presence.connected(email, _user_agent(contacts))
        return len(stored)

    async def expire(self) -> list[str]:
        """Drop the bindings past their expiry; returns the e-mails that lost their last binding."""
        now = self._now()
        gone = []
        async with self._lock:
            for email, contacts in list(self.bindings.items()):
                kept = {uri: b for uri, b in contacts.items() if b.expires_at > now}
                if len(kept) == len(contacts):
                    continue
                user_id = next(iter(contacts.values())).user_id
                await asyncio.to_thread(replace_bindings, self.database, user_id, list(kept.values()))
                if kept:
                    self.bindings[email] = kept
                else:
                    del self.bindings[email]
                    self.presence.disconnected(email)
                    gone.append(email)
        return gone

    # ------------------------------------------------------------ REGISTER

    async def register(self, request: SipRequest) -> bytes:
        to_tag = secrets.token_hex(6)
        try:
            to = parse_name_addr(request.headers["To"])
            if not self._serves(to.host):
                raise Refused(reply(request, 404, f"Domain {to.host} not served here", to_tag=to_tag))
            account = await self._authenticate(request, to.user, to_tag)
            return await self._update(request, account, to_tag)
        except Refused as refused:
            return refused.response
        except MalformedMessage as error:
            return reply(request, 400, _phrase(error.reason), to_tag=to_tag)

    def _serves(self, host: str) -> bool:
        return host.lower() in self.domains or bool(self.domains & {"0.0.0.0", "::"})

    async def _authenticate(self, request: SipRequest, aor_user: str, to_tag: str) -> SipAccount:
        offered = [value for value in header_values(request.headers, "Authorization")
                   if value.strip().lower().startswith("digest")]
        if not offered:
            raise Refused(self._challenge(request, to_tag))
        try:
            credentials = next((c for c in map(parse_authorization, offered) if c.realm.lower()
                                in {self.realm.lower(), *self.domains}), None)
        except Malformed as error:
            raise Refused(reply(request, 400, _phrase(str(error)), to_tag=to_tag)) from None
        if credentials is None:
            raise Refused(self._challenge(request, to_tag))
        account = await asyncio.to_thread(sip_account, self.database, credentials.username)
        password = account.password if account else DUMMY_PASSWORD  # same work for unknown users
        if (not response_matches(credentials, password, request.method) or account is None
                or not account.allowed or credentials.username != aor_user):
            self._on_auth_failure(request.source[0])
            raise Refused(reply(request, 403, "Forbidden", to_tag=to_tag))
        verdict = self.nonces.check(credentials.nonce, credentials.count)
        if verdict is NonceCheck.STALE:
            raise Refused(self._challenge(request, to_tag, stale=True))
        if verdict is not NonceCheck.FRESH:  # foreign nonce, or a replayed nonce count
            raise Refused(self._challenge(request, to_tag))
        return account

    def _challenge(self, request: SipRequest, to_tag: str, *, stale: bool = False) -> bytes:
        algorithms = self.options.algorithms
        if "MD5" in algorithms and MD5_ONLY.match(str(request.headers.get("User-Agent", ""))):
            algorithms = ("MD5",)
        offers = challenges(self.realm, self.nonces.issue(), stale=stale, algorithms=algorithms)
        return reply(request, 401, "Unauthorized", to_tag=to_tag,
                     extra=[("WWW-Authenticate", offer) for offer in offers])

    async def _update(self, request: SipRequest, account: SipAccount, to_tag: str) -> bytes:
        now = self._now()
        changes = self._requested(request, account, now, to_tag)
        async with self._lock:
            before = self.bindings.get(account.email, {})
            after = {uri: b for uri, b in before.items() if b.expires_at > now}
            for uri, binding in changes.items():
                current = after.get(uri)
                if (current is not None and current.call_id == binding.call_id
                        and binding.cseq <= current.cseq):
                    return reply(request, 500, "Out of order CSeq", to_tag=to_tag)
                if binding.expires_at <= now:
                    after.pop(uri, None)
                else:
                    after[uri] = binding
            if changes:
                await asyncio.to_thread(replace_bindings, self.database, account.user_id,
                                        list(after.values()))
                self._publish(account.email, before, after)
        return reply(request, 200, "OK", to_tag=to_tag, extra=[
            *(("Contact", f"<{uri}>;expires={max(0, int((b.expires_at - now).total_seconds()))}")
              for uri, b in after.items()),
            ("Date", format_datetime(now.astimezone(UTC), usegmt=True))])

    def _requested(self, request: SipRequest, account: SipAccount, now: datetime,
                   to_tag: str) -> dict[str, Binding]:
        """The bindings the REGISTER asks for, by contact URI (expiry `now` for a removal)."""
        contacts = header_values(request.headers, "Contact")
        header_expires = _seconds(request.headers.get("Expires"), "Expires")
        template = Binding(account.user_id, account.email, "", "{}:{}".format(*request.source),
                           str(request.headers.get("User-Agent", ""))[:200], request.headers["Call-ID"],
                           request.cseq, now)
        if [c.strip() for c in contacts] == ["*"]:
            if header_expires != 0:
                raise MalformedMessage("Contact * needs Expires: 0")
            return {uri: replace(template, contact_uri=uri)
                    for uri in self.bindings.get(account.email, {})}
        wanted = {}
        for value in contacts:
            if value.strip() == "*":
                raise MalformedMessage("Contact * must be the only contact")
            contact = parse_name_addr(value)
            asked = _seconds(contact.params.get("expires"), "expires")
            seconds = self._expires(header_expires if asked is None else asked, request, to_tag)
            wanted[contact.uri] = replace(template, contact_uri=contact.uri[:500],
                                          expires_at=now + timedelta(seconds=seconds))
        return wanted

    def _expires(self, asked: int | None, request: SipRequest, to_tag: str) -> int:
        if asked is None:
            return self.options.default_expires_s
        if 0 < asked < self.options.min_expires_s:
            raise Refused(reply(request, 423, "Interval Too Brief", to_tag=to_tag,
                                extra=[("Min-Expires", str(self.options.min_expires_s))]))
        return min(asked, self.options.max_expires_s)

    def _publish(self, email: str, before: dict[str, Binding], after: dict[str, Binding]) -> None:
        if after:
            self.bindings[email] = after
            if not before or _user_agent(before) != _user_agent(after):
                self.presence.connected(email, _user_agent(after))
        else:
            self.bindings.pop(email, None)
            if before:
                self.presence.disconnected(email)


def _user_agent(contacts: dict[str, Binding]) -> str:
    return max(contacts.values(), key=lambda b: b.expires_at).user_agent


def _seconds(value: object, name: str) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text.isdigit():
        raise MalformedMessage(f"{name} {text!r} is not a number of seconds")
    return int(text)


def _phrase(reason: str) -> str:
    """A reason phrase on one line of printable text."""
    return "Bad Request (" + "".join(c if c.isprintable() else " " for c in reason)[:100] + ")"

