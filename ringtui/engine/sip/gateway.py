"""The SIP gateway of a running engine: the UDP endpoint, the registrar, the call legs, the engine's agents.

Started by `ringtui engine run --sip HOST:PORT` as one more task of the
EngineRuntime; stops (socket closed) when that task is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiovoip.message import Response

from ringtui.engine.core.errors import CoreError
from ringtui.engine.sip.calls import SipCalls
from ringtui.engine.sip.edge import EdgeLimits, SourceGuard
from ringtui.engine.sip.message import SipRequest, reply
from ringtui.engine.sip.originate import Originator, Target
from ringtui.engine.sip.outbound import Outbound
from ringtui.engine.sip.registrar import Registrar, RegistrarOptions
from ringtui.engine.sip.transport import SipEndpoint, widen_buffers

if TYPE_CHECKING:
    from ringtui.engine.runtime import EngineRuntime

log = logging.getLogger("ringtui.engine.sip")

SWEEP_S = 1.0
ALLOW = "INVITE, ACK, CANCEL, BYE, REFER, REGISTER, OPTIONS"
INTERFACE = "sip"


class EnginePresence:
    """Registered agents are connected for the routing core (interface "sip")."""

    def __init__(self, runtime: EngineRuntime) -> None:
        self.runtime = runtime
        self.user_agents: dict[str, str] = {}  # e-mail -> User-Agent of the newest binding

    def connected(self, email: str, user_agent: str) -> None:
        self.user_agents[email] = user_agent
        self._apply(lambda: self.runtime.center.agent_connected(email, INTERFACE, user_agent or None), email)

    def disconnected(self, email: str) -> None:
        self.user_agents.pop(email, None)
        self._apply(lambda: self.runtime.center.agent_disconnected(email), email)

    def _apply(self, change, email: str) -> None:
        try:
            self.runtime.apply(change())
        except CoreError as error:  # a user not (yet) among the engine's agents
            log.info("SIP registration of %s not shown to the engine: %s", email, error)


class SipGateway:
    def __init__(self, runtime: EngineRuntime, address: str,
                 options: RegistrarOptions = RegistrarOptions()) -> None:
        from ringtui.engine.runtime import split_address

        self.runtime = runtime
        self.host, self.port = split_address(address)
        self.presence = EnginePresence(runtime)
        self.guard = SourceGuard(EdgeLimits.from_settings(runtime.settings))
        self.registrar = Registrar(runtime.database, realm=runtime.settings.sip_domain,
                                   domains={runtime.settings.sip_domain, self.host}, presence=self.presence,
                                   options=options, on_auth_failure=self.guard.auth_failed)
        self.endpoint = SipEndpoint(self.handle, on_response=self._response, on_ack=self._ack,
                                    guard=self.guard)
        self.calls = SipCalls(runtime, self.endpoint, self.registrar)
        runtime.action_sinks.append(self.calls.act)
        self.outbound = Outbound(runtime, self.endpoint, self.registrar, runtime.settings.sip_trunk,
                                 on_auth_failure=self.guard.auth_failed)
        runtime.action_sinks.append(self.outbound.act)
        runtime.transfer_checks += [self.calls.carries_transfer, self.outbound.carries_transfer]
        self.originate = Originator(self.endpoint.send)  # campaigns, external transfers
        self.calls.originate, self.calls.trunk_target = self.originate, self.trunk_target
        self.address: tuple[str, int] | None = None

    def trunk_target(self, number: str) -> Target | None:
        """Where a call the engine places to an external number goes: the trunk (None: there is none,
        or its address does not resolve)."""
        trunk, address = self.runtime.settings.sip_trunk, self.outbound.trunk_address
        if trunk is None or address is None:
            return None
        domain = trunk.from_domain or trunk.host
        return Target(f"sip:{number}@{trunk.host}:{trunk.port}", address, f"<sip:{number}@{domain}>", trunk)

    async def handle(self, request: SipRequest) -> bytes | None:
        if request.method == "REGISTER":
            return await self.registrar.register(request)
        if request.method == "OPTIONS":
            return reply(request, 200, "OK", extra=[("Allow", ALLOW)])
        if request.method == "INVITE":
            if self.calls.owns(request):  # a re-INVITE in an inbound call's dialog (a caller's or a phone's)
                return self.calls.invite(request)
            if self.outbound.owns(request):  # a re-INVITE in an outbound call's dialog
                return self.outbound.reinvite(request)
            if self.originate.owns(request):
                return self.originate.invite(request)
            if self.outbound.places(request):
                return await self.outbound.invite(request)
            return self.calls.invite(request)
        if request.method == "CANCEL":
            return self.outbound.cancel(request) or self.calls.cancel(request)
        if request.method == "BYE":
            return self.outbound.bye(request) or self.originate.bye(request) or self.calls.bye(request)
        if request.method == "REFER":  # an agent's phone transfers its call (RFC 3515)
            if self.outbound.owns(request):
                return self.outbound.refer(request)
            return await self.calls.refer(request)
        return reply(request, 501, "Not Implemented", extra=[("Allow", ALLOW)])

    def _response(self, response: Response) -> None:
        if not self.outbound.response(response) and not self.originate.response(response):
            self.calls.response(response)

    def _ack(self, request: SipRequest) -> None:
        if not self.outbound.ack(request) and not self.originate.ack(request):
            self.calls.ack(request)

    async def run(self) -> None:
        """Serve until cancelled."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self.endpoint,
                                                           local_addr=(self.host, self.port))
        widen_buffers(transport.get_extra_info("socket"))
        try:
            address = transport.get_extra_info("sockname")[:2]
            self.calls.local = self.outbound.local = self.originate.local = address
            restored = await self.registrar.restore()
            log.info("SIP on udp:%s:%d; %d stored binding(s) restored", *address, restored)
            await self.outbound.resolve()
            trunk = self.runtime.settings.sip_trunk
            if trunk is None:
                log.info("no SIP trunk ([sip.trunk] address): agents' outbound calls are refused 503")
            elif self.outbound.trunk_address is not None:
                log.info("agents' outbound calls go through the SIP trunk udp:%s:%d (%s)", trunk.host,
                         trunk.port, self.outbound.trunk_address[0])
            self.address = address  # ready: the stored bindings are back, the trunk resolved
            from ringtui.engine.campaigns.telephony import SipTelephony

            self.runtime.campaign_telephony = SipTelephony(self)
            while True:
                await asyncio.sleep(SWEEP_S)
                self.endpoint.sweep()
                try:
                    await self.registrar.expire()
                except Exception:
                    log.exception("expiring SIP bindings failed; retried in %s s", SWEEP_S)
        finally:
            self.calls.close()
            self.outbound.close()
            self.originate.close()
            self.endpoint.close()
