"""What the core asks adapters to do (SIP, simulator). Plain, immutable data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    call_id: str


@dataclass(frozen=True)
class RingAgent(Action):
    agent: str  # e-mail
    ring_s: float


@dataclass(frozen=True)
class CancelRing(Action):
    agent: str


@dataclass(frozen=True)
class ConnectAgent(Action):
    agent: str


@dataclass(frozen=True)
class ReleaseAgent(Action):
    """The agent handed the call on (a transfer): their leg of it ends, the caller's goes on."""

    agent: str


@dataclass(frozen=True)
class Play(Action):
    text: str = ""
    sound: str | None = None


@dataclass(frozen=True)
class CollectDigits(Action):
    """Listen for DTMF (menu, survey) for timeout_s."""

    timeout_s: float


@dataclass(frozen=True)
class HoldMusic(Action):
    """The call waits in a queue."""


@dataclass(frozen=True)
class StartVoicemail(Action):
    mailbox: str | None  # the user's e-mail; None = the IVR's box


@dataclass(frozen=True)
class ForwardTo(Action):
    number: str


@dataclass(frozen=True)
class TransferOut(Action):
    """An answered call handed to an external number (S6): the telephony places a leg to it with the
    caller's session and reports back (CallCenter.external_answered / external_failed); the
    caller hears hold music meanwhile. `ring_s`: how long the number may ring."""

    number: str
    ring_s: float


@dataclass(frozen=True)
class Dial(Action):
    """Outbound call placed by an agent."""

    agent: str
    number: str


@dataclass(frozen=True)
class Record(Action):
    on: bool


@dataclass(frozen=True)
class Whisper(Action):
    supervisor: str
    agent: str | None


@dataclass(frozen=True)
class HangUp(Action):
    """SIP-ish cause: 603 declined (blacklist, anonymous), 480 closed, 404 unknown number, 200 normal."""

    cause: int
    reason: str = ""
