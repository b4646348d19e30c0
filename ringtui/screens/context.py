"""What every screen is given: the settings, who is acting, and the live feed when one is connected.

Screens are thin: they call services through `context.operation()` exactly as
commands do (same validation messages, same role and scope checks), and read
live state from `context.feed`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ringtui.config import Settings
    from ringtui.services.base import Operation


@dataclass
class TuiContext:
    settings: Settings
    acting_user: str | None = None
    feed: Any = None  # the app's live-feed state (ringtui.screens.feed) once connected; None offline
    options: dict[str, Any] = field(default_factory=dict)  # ascii mode, bindings, ... from config and flags

    @contextmanager
    def operation(self) -> Iterator[Operation]:
        """One service operation for the acting user, in one transaction."""
        from ringtui.formats import show_times_in
        from ringtui.services.base import operation

        with operation(self.settings, self.acting_user) as op:
            show_times_in(op.account.timezone)
            yield op
