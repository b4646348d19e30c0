"""The waiting list: VIP callers first, then arrival order (E2)."""

from __future__ import annotations

from ringtui.engine.core.calls import Call


class WaitingList:
    def __init__(self) -> None:
        self._calls: dict[str, Call] = {}
        self._ordered: list[Call] | None = []

    def __len__(self) -> int:
        return len(self._calls)

    def __contains__(self, call_id: str) -> bool:
        return call_id in self._calls

    def add(self, call: Call) -> None:
        self._calls[call.call_id] = call
        self._ordered = None

    def remove(self, call_id: str) -> bool:
        if self._calls.pop(call_id, None) is None:
            return False
        self._ordered = None
        return True

    def in_order(self) -> list[Call]:
        """Cached until the list changes: dispatch reads it far more often than it changes."""
        if self._ordered is None:
            self._ordered = sorted(self._calls.values(), key=lambda call: (not call.vip, call.arrival))
        return self._ordered

    def position(self, call_id: str) -> int:
        """1-based place in the list."""
        return next(index for index, call in enumerate(self.in_order(), 1) if call.call_id == call_id)
