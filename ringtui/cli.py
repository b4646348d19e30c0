"""The root `ringtui` command. Sub-commands live in ringtui/commands/, one module per noun.

Only Typer and the command modules are imported here; the database layer is
imported by a command when it runs, so `ringtui --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ringtui import __version__
from ringtui.commands import (
    account,
    apikeys,
    blacklist,
    calls,
    campaign,
    contacts,
    engine,
    export,
    filters,
    groups,
    ivr,
    missed,
    numbers,
    reports,
    setup,
    stats,
    tags,
    tui,
    users,
    webhooks,
)
from ringtui.commands._runtime import CliState
from ringtui.errors import RingtuiError


class RootGroup(TyperGroup):
    """Turns a refused request into its message on stderr and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except RingtuiError as error:
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(1) from None
        except Exception as error:
            if type(error).__module__.startswith(("sqlalchemy", "psycopg")):
                typer.echo(f"Error: database failure: {error}", err=True)
                raise typer.Exit(1) from None
            raise


app = typer.Typer(
    cls=RootGroup,
    name="ringtui",
    help="Terminal-first operations for a hosted PBX / contact center.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ringtui {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (env RINGTUI_DATABASE_URL); "
                                           "default an SQLite file in the user data directory.")] = None,
    config: Annotated[str | None, typer.Option(
        "--config", help="config.toml path (env RINGTUI_CONFIG).")] = None,
    acting_user: Annotated[str | None, typer.Option("--as", help="Act as this user (env RINGTUI_USER); "
                                                    "default the super admin.")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = CliState(database_url=db, config_path=config, acting_user=acting_user)


setup.register(app)
tui.register(app)
for module in (account, users, groups, numbers, ivr, blacklist, tags, contacts, calls, missed, stats,
               export, apikeys, webhooks, engine, campaign):
    app.add_typer(module.app, name=module.NAME, help=module.HELP)
for module in (filters, reports):  # saved filters (S16), image reports (S15)
    app.add_typer(module.app, name=module.NAME, help=module.HELP)
app.add_typer(account.addons_app, name=account.ADDONS_NAME, help=account.ADDONS_HELP)


def main() -> None:
    try:
        app(prog_name="ringtui")
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
    _exit_now(code)


def _exit_now(code: int) -> None:
    """Leave without the interpreter's teardown.

    Freeing SQLAlchemy's and pydantic's objects at exit takes a quarter of a
    second, longer than most commands run; everything is committed by now.
    """
    database = sys.modules.get("ringtui.db")
    if database is not None:
        database.dispose_engines()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
