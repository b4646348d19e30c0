"""A small SMSC for tests and benchmarks, built on smpp.twisted3's SMPP server (the one jasmin uses).

Run as its own process (Twisted's reactor beside the engine's asyncio loop):
    python -m tests.e2e.smsc --log FILE [--port 0] [--system-id ID] [--password PW] [--fail NUMBER]...
It prints `LISTENING PORT` once bound to 127.0.0.1, answers each submit_sm with a
message id, writes it as a JSON line to FILE, and, when a receipt is asked for,
sends a deliver_sm receipt shortly after: DELIVRD, or UNDELIV for --fail numbers.
With --silent it never answers a submit_sm. It stops by itself after --lifetime seconds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from datetime import UTC, datetime

from smpp.pdu import pdu_types
from smpp.pdu.operations import DeliverSM
from smpp.twisted.config import SMPPServerConfig
from smpp.twisted.protocol import DataHandlerResponse
from smpp.twisted.server import IAuthenticatedSMPP, SMPPServerFactory
from twisted.cred import checkers, credentials, error, portal
from twisted.internet import defer, reactor
from zope.interface import implementer


@implementer(checkers.ICredentialsChecker)
class _Accounts:
    """One system_id and its password (Twisted's in-memory checker wants bytes user names)."""

    credentialInterfaces = (credentials.IUsernamePassword,)

    def __init__(self, system_id: str, password: str) -> None:
        self.system_id, self.password = system_id, password

    def requestAvatarId(self, creds):
        if creds.username == self.system_id and creds.password == self.password:
            return defer.succeed(creds.username)
        return defer.fail(error.UnauthorizedLogin())


@implementer(portal.IRealm)
class _Realm:
    def requestAvatar(self, avatar_id, mind, *interfaces):
        return IAuthenticatedSMPP, avatar_id, lambda: None


def _text(pdu) -> str:
    raw = pdu.params.get("short_message") or pdu.params.get("message_payload") or b""
    coding = pdu.params.get("data_coding")
    scheme = getattr(getattr(coding, "schemeData", None), "name", "")
    if isinstance(raw, bytes):
        return raw.decode("utf-16-be" if "UCS2" in scheme else "latin-1", errors="replace")
    return str(raw)


class Smsc:
    def __init__(self, log_path: str, failing: set[str], receipt_delay: float, silent: bool = False) -> None:
        self.silent = silent
        self.log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life
        self.failing = failing
        self.receipt_delay = receipt_delay
        self.ids = itertools.count(1)

    def handle(self, system_id, smpp, pdu):
        if pdu.commandId != pdu_types.CommandId.submit_sm:
            return None
        message_id = f"smsc{next(self.ids):08d}"
        destination = pdu.params["destination_addr"].decode()
        source = pdu.params["source_addr"].decode()
        self.log.write(json.dumps({"id": message_id, "to": destination, "from": source,
                                   "text": _text(pdu)}, ensure_ascii=False) + "\n")
        self.log.flush()
        if self.silent:  # a carrier that takes the submit_sm and never answers it
            return defer.Deferred()
        wants_receipt = getattr(pdu.params.get("registered_delivery"), "receipt", None)
        if wants_receipt is not None and wants_receipt.name != "NO_SMSC_DELIVERY_RECEIPT_REQUESTED":
            state = "UNDELIV" if destination in self.failing else "DELIVRD"
            reactor.callLater(self.receipt_delay, self.receipt, smpp, message_id, source, destination, state)
        return DataHandlerResponse(status=pdu_types.CommandStatus.ESME_ROK, message_id=message_id)

    @staticmethod
    def receipt(smpp, message_id: str, source: str, destination: str, state: str) -> None:
        now = datetime.now(UTC).strftime("%y%m%d%H%M")
        text = (f"id:{message_id} sub:001 dlvrd:{'001' if state == 'DELIVRD' else '000'} submit date:{now} "
                f"done date:{now} stat:{state} err:000 text:")
        smpp.sendDataRequest(DeliverSM(
            source_addr=destination.encode(), destination_addr=source.encode(),
            esm_class=pdu_types.EsmClass(pdu_types.EsmClassMode.DEFAULT,
                                         pdu_types.EsmClassType.SMSC_DELIVERY_RECEIPT),
            short_message=text.encode()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True)
    parser.add_argument("--system-id", default="ringtui")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--fail", action="append", default=[])
    parser.add_argument("--receipt-delay", type=float, default=0.05)
    parser.add_argument("--lifetime", type=float, default=120)
    parser.add_argument("--silent", action="store_true", help="never answer a submit_sm")
    args = parser.parse_args()
    smsc = Smsc(args.log, set(args.fail), args.receipt_delay, args.silent)
    checker = _Accounts(args.system_id, args.password)
    config = SMPPServerConfig(msgHandler=smsc.handle, systems={args.system_id: {"max_bindings": 4}},
                              enquireLinkTimerSecs=60)
    factory = SMPPServerFactory(config, auth_portal=portal.Portal(_Realm(), [checker]))
    port = reactor.listenTCP(args.port, factory, interface="127.0.0.1")
    print(f"LISTENING {port.getHost().port}", flush=True)
    reactor.callLater(args.lifetime, reactor.stop)
    reactor.run()
    sys.exit(0)


if __name__ == "__main__":
    main()
