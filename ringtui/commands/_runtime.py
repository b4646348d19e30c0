"""What every command needs: the root options, an operation, output flags."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ringtui.config import Settings
    from ringtui.services.base import Operation


@dataclass(frozen=True)
class CliState:
    database_url: str | None = None
    config_path: str | None = None
    acting_user: str | None = None


def _one_format(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> bool:
    """--json and --csv ask for two documents on one stdout: a usage error, not a silent choice."""
    if value:
        given = ctx.meta.setdefault("ringtui.output_flags", set())
        given.add(param.opts[0])
        if len(given) > 1:
            raise typer.BadParameter("give --json or --csv, not both", param_hint="'--json' / '--csv'")
    return value


JsonFlag = Annotated[bool, typer.Option(
    "--json", help="Print one JSON document on stdout.", callback=_one_format)]
CsvFlag = Annotated[bool, typer.Option("--csv", help="Print CSV on stdout.", callback=_one_format)]
SkipInvalid = Annotated[bool, typer.Option(
    "--skip-invalid", help="Import the good lines and report the bad ones (default: all or nothing).")]


def _state() -> CliState:
    try:  # Typer 0.29+ vendors Click
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - older Typer on top of Click
        from click import get_current_context
    root = get_current_context().find_root()
    return root.obj if isinstance(root.obj, CliState) else CliState()


def settings() -> Settings:
    from ringtui.config import load_settings

    state = _state()
    return load_settings(
        config_path=state.config_path, database_url=state.database_url, acting_user=state.acting_user
    )


@contextmanager
def operation() -> Iterator[Operation]:
    """A service operation for the acting user, in one transaction."""
    from ringtui.formats import show_times_in
    from ringtui.services.base import operation as service_operation

    with service_operation(settings()) as op:
        show_times_in(op.account.timezone)
        yield op
