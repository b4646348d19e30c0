"""The baseline of bench/sip_load.py: a bare aiovoip back-to-back user agent, nothing else.

An INVITE from a caller becomes an INVITE to one fixed agent (no registrar, no routing,
no database, no transaction layer of our own): the agent's 180 and 200 are relayed, the
caller's BYE is answered and becomes a BYE to the agent. This is what aiovoip gives for
free; ringtui's engine does the same with routing, recording and RFC 3261 transactions.

    python bench/sip/b2bua.py --listen 127.0.0.1:PORT --agent 127.0.0.1:PORT
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

import aiovoip
from aiovoip.contact import Contact


def address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


class Relay:
    def __init__(self, app: aiovoip.Application, listen: tuple[str, int], agent: tuple[str, int]) -> None:
        self.app, self.listen, self.agent = app, listen, agent
        self.peer = None
        self.calls = 0

    async def invite(self, request, message) -> None:
        caller = await request.prepare(status_code=100)
        if self.peer is None:
            self.peer = await self.app.connect(self.agent, local_addr=self.listen)
        agent_uri = f"sip:agent@{self.agent[0]}:{self.agent[1]}"
        b_leg = await self.peer.invite(
            from_details=Contact.from_header(f"<sip:b2bua@{self.listen[0]}:{self.listen[1]}>"),
            to_details=Contact.from_header(f"<{agent_uri}>"),
            payload=message.payload, headers={"Content-Type": "application/sdp"})
        final = None
        async for response in b_leg.wait_for_terminate():
            if response.status_code == 180:
                await caller.reply(message, 180)
            elif response.status_code >= 200:
                final = response
        if final is None or final.status_code != 200:
            await caller.reply(message, final.status_code if final else 500)
            await caller.close()
            return
        await caller.reply(message, 200, payload=final.payload,
                           headers={"Content-Type": "application/sdp"})
        async for in_dialog in caller:
            if in_dialog.method == "BYE":
                await caller.reply(in_dialog, 200)
                break
        self.calls += 1
        with contextlib.suppress(Exception):
            await b_leg.close(timeout=5)
        await caller.close()


class Dialplan(aiovoip.BaseDialplan):
    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    async def resolve(self, *args, **kwargs):
        if kwargs["method"] == "INVITE":
            return self.relay.invite
        return None


async def main(listen: tuple[str, int], agent: tuple[str, int]) -> None:
    loop = asyncio.get_running_loop()
    app = aiovoip.Application(loop=loop, defaults={"dialog_closing_delay": 1})
    relay = Relay(app, listen, agent)
    app.dialplan = Dialplan(relay)
    await app.run(local_addr=listen)
    print(f"b2bua on {listen[0]}:{listen[1]} -> {agent[0]}:{agent[1]}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=address, required=True)
    parser.add_argument("--agent", type=address, required=True)
    options = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main(options.listen, options.agent))
