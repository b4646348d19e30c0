"""Slow reads off the UI thread where only the latest answer matters (an estimate as a form is typed,
a campaign's 100,000 numbers): older answers that come back late are dropped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from textual.widget import Widget

T = TypeVar("T")


class LatestInThread(Generic[T]):
    def __init__(self, owner: Widget) -> None:
        self.owner = owner
        self.asked = 0

    def run(self, work: Callable[[], T], show: Callable[[T], Any]) -> None:
        """`work()` in a thread, then `show(result)` on the UI thread if nothing was asked since."""
        self.asked += 1
        asked = self.asked

        def shown(result: T) -> None:
            if asked == self.asked and self.owner.is_mounted:
                show(result)

        self.owner.run_worker(lambda: self.owner.app.call_from_thread(shown, work()), thread=True,
                              exit_on_error=False)
