"""The waiting list: VIP callers first, then arrival order (E2)."""

from __future__ import annotations

from bisect import bisect_left, insort

from ringtui.engine.core.calls import Call


def _rank(call: Call) -> tuple[bool, int]:
    return (not call.vip, call.arrival)


class WaitingList:
    """Kept sorted as calls come and go: dispatch reads the order far more often than it changes."""

    def __init__(self) -> None:
        self._calls: dict[str, Call] = {}
        self._ordered: list[Call] = []

    def __len__(self) -> int:
        return len(self._calls)

    def __contains__(self, call_id: str) -> bool:
        return call_id in self._calls

    def add(self, call: Call) -> None:
        if call.call_id in self._calls:
            return
        self._calls[call.call_id] = call
        insort(self._ordered, call, key=_rank)

    def remove(self, call_id: str) -> bool:
        call = self._calls.pop(call_id, None)
        if call is None:
            return False
        del self._ordered[bisect_left(self._ordered, _rank(call), key=_rank)]
        return True

    def in_order(self) -> list[Call]:
        return self._ordered

    def position(self, call_id: str) -> int:
        """1-based place in the list."""
        return bisect_left(self._ordered, _rank(self._calls[call_id]), key=_rank) + 1
