"""Errors a service raises when it refuses a request.

Every one of them ends a command with exit code 1 and its message on stderr;
the message names the offending value and what would be accepted.
"""


class RingtuiError(Exception):
    """A request was refused or failed (exit code 1)."""


class NotFound(RingtuiError):
    pass


class Conflict(RingtuiError):
    pass


class Invalid(RingtuiError):
    pass


class PermissionDenied(RingtuiError):
    pass


class PlanRequired(RingtuiError):
    pass


class NotInitialised(RingtuiError):
    pass


class BulkInvalid(Invalid):
    """A bulk write refused as a whole; `problems` lists (line, message) pairs."""

    def __init__(self, what: str, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        lines = "\n".join(f"  line {line}: {message}" for line, message in problems)
        super().__init__(
            f"{what}: {len(problems)} bad line(s), nothing was imported "
            f"(use --skip-invalid to import the good lines):\n{lines}"
        )
