"""The FILTERS options of CLI.md (S6), shared by `calls`, `missed` and `stats`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

Period = Annotated[str | None, typer.Option("--period", help=(
    "today, yesterday, this-week, last-week, this-month, last-month or FIRST..LAST "
    "(YYYY-MM-DD..YYYY-MM-DD), in the account's time zone."))]
Hours = Annotated[str | None, typer.Option(
    "--hours", help="HH:MM-HH:MM applied to every day of the period (account time zone).")]
Scope = Annotated[str | None, typer.Option(
    "--scope", help="all, ivrs (IVR calls only), direct (direct lines only) or custom.")]
IvrName = Annotated[str | None, typer.Option("--ivr", help="Only calls of this IVR.")]
GroupName = Annotated[str | None, typer.Option("--group", help="Only calls taken by agents of this group.")]
UserEmail = Annotated[str | None, typer.Option("--user", help="Only calls of this user (e-mail).")]
Country = Annotated[str | None, typer.Option("--country", help="Only customers of this country (ISO2).")]
TagName = Annotated[str | None, typer.Option("--tag", help="Only calls with this tag.")]
MeetingTagName = Annotated[str | None, typer.Option("--tag", help="Only meetings with this tag.")]
CallDirection = Annotated[str | None, typer.Option("--direction", help="in or out.")]
CallType = Annotated[str | None, typer.Option("--type", help="answered, missed, voicemail or no-key.")]
Limit = Annotated[int, typer.Option("--limit", help="At most this many calls, newest first (1..100000).")]


def filter_options(**options: Any) -> Any:
    """The FILTERS options, as the services take them."""
    from ringtui.services.filters import FilterOptions

    return FilterOptions(**options)


SavedFilterName = Annotated[str | None, typer.Option("--filter", help=(
    "Start from this saved filter (see `ringtui filters list`); options given here override its values."))]
