"""What the core refuses: adapter mistakes, not callers' behaviour.

A caller pressing a digit during hold music is normal and is ignored with a reason
(Reaction.ignored); an adapter naming a call or an agent the core never heard of
is a bug on its side and raises.
"""

from __future__ import annotations


class CoreError(Exception):
    """Base of the core's refusals."""


class UnknownCall(CoreError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"unknown call {call_id!r}: not in progress in the engine "
                         "(never started or already over)")
        self.call_id = call_id


class UnknownAgent(CoreError):
    def __init__(self, email: str) -> None:
        super().__init__(f"unknown agent {email!r}: not among the configured agents")
        self.email = email


class DuplicateCall(CoreError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id!r} is already in progress: call ids must be unique")
        self.call_id = call_id


class AgentUnavailable(CoreError):
    def __init__(self, email: str, state: str) -> None:
        super().__init__(f"agent {email!r} cannot take a call now: state is {state}; needs a free channel")
        self.email = email


class TransferRefused(CoreError):
    """A transfer the core will not make: the message names the call, the target and why."""

    def __init__(self, call_id: str, target: str, reason: str) -> None:
        super().__init__(f"cannot transfer call {call_id!r} to {target!r}: {reason}")
        self.call_id, self.target, self.reason = call_id, target, reason
