"""The FILTERS options of CLI.md (S6), shared by `calls`, `missed` and `stats`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, get_type_hints

import typer

from ringtui.vocab import TransfersCounted

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
CallType = Annotated[list[str] | None, typer.Option("--type", help=(
    "answered, missed, voicemail or no-key; repeat it (or give a comma list) for several."))]
ExcludeType = Annotated[list[str] | None, typer.Option("--exclude-type", help=(
    "Leave out calls of this type (answered, missed, voicemail, no-key); repeatable."))]
AccountNumber = Annotated[list[str] | None, typer.Option("--number", help=(
    "Only calls to (inbound) or from (outbound) this number of the account, e.g. one number of an "
    "IVR; repeatable."))]
Redirection = Annotated[list[str] | None, typer.Option("--redirection", help=(
    "Only calls that this step of the --ivr IVR handled last (the ring or queue step that rang "
    "agents, the voicemail, the forward...); repeatable; needs --ivr."))]
Transfers = Annotated[TransfersCounted | None, typer.Option("--transfers", case_sensitive=False, help=(
    "How transferred calls (handed on by an agent at least once) are counted: all (the default), "
    "exclude (left out) or only."))]
Limit = Annotated[int, typer.Option("--limit", help="At most this many calls, newest first (1..100000).")]


def filter_options(**options: Any) -> Any:
    """The FILTERS options, as the services take them: a repeated option as one comma-joined value."""
    from ringtui.services.filters import FilterOptions

    return FilterOptions(**{name: _plain(value) for name, value in options.items()})


def _plain(value: Any) -> Any:
    """A repeated option as one comma-joined value; a choice (an enum) as its text."""
    if isinstance(value, list):
        return ",".join(value)
    return value.value if isinstance(value, Enum) else value


SavedFilterName = Annotated[str | None, typer.Option("--filter", help=(
    "Start from this saved filter (see `ringtui filters list`); options given here override its values."))]


# The FILTERS options in CLI.md order: option parameter name and its annotation.
FILTER_PARAMETERS: dict[str, tuple[str, Any]] = {
    "period": ("period", Period), "hours": ("hours", Hours), "scope": ("scope", Scope),
    "ivr": ("ivr", IvrName), "group": ("group", GroupName), "user": ("user", UserEmail),
    "country": ("country", Country), "tag": ("tag", TagName), "direction": ("direction", CallDirection),
    "type": ("type_", CallType), "saved": ("saved", SavedFilterName),
    "exclude_type": ("exclude_type", ExcludeType), "number": ("number", AccountNumber),
    "redirection": ("redirection", Redirection), "transfers": ("transfers", Transfers),
}
CALL_FILTERS = tuple(FILTER_PARAMETERS)


def with_filters(*names: str, **annotations: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The command gets the FILTERS options `names` (all by default) where its `filters` parameter
    is, and that parameter as one FilterOptions: a single definition of the options and of the way
    they become FilterOptions. `annotations` replaces an option's annotation (its help text)."""
    chosen = [(name, FILTER_PARAMETERS[name][0], annotations.get(name, FILTER_PARAMETERS[name][1]))
              for name in names or CALL_FILTERS]

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        hints = get_type_hints(func, localns={"FilterOptions": Any}, include_extras=True)
        parameters: list[inspect.Parameter] = []
        for parameter in inspect.signature(func).parameters.values():
            if parameter.name != "filters":
                parameters.append(parameter.replace(annotation=hints[parameter.name]))
                continue
            parameters += [inspect.Parameter(argument, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                             annotation=annotation) for _, argument, annotation in chosen]

        @functools.wraps(func)
        def command(**values: Any) -> Any:
            options = {name: values.pop(argument) for name, argument, _ in chosen}
            return func(filters=filter_options(**options), **values)

        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
        return command

    return decorate
