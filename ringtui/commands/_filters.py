"""The FILTERS options of CLI.md (S6), shared by `calls`, `missed` and `stats`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, get_type_hints

import typer

from ringtui.errors import Invalid
from ringtui.vocab import TransfersCounted

PERIOD_HELP = "today, yesterday, this-week, last-week, this-month, last-month or YYYY-MM-DD..YYYY-MM-DD"


def _once(flag: str, help_text: str) -> Any:
    """A FILTERS option that takes one value. Click would keep the last of repeated values without a
    word (`--ivr A --ivr B` answering for B alone), so the option collects every value and
    `with_filters` refuses a repeat."""
    return Annotated[list[str] | None, typer.Option(flag, metavar="<str>", help=help_text)]


def _several(flag: str, help_text: str) -> Any:
    """A FILTERS option that takes several values: repeated (--ivr A --ivr B) or a comma list (--ivr A,B),
    read as any of them; they reach the services comma-joined."""
    return Annotated[list[str] | None, typer.Option(flag, metavar="<str>", help=(
        f"{help_text} Repeatable, or a comma list: any of them."))]


Period = _once("--period", (
    "today, yesterday, this-week, last-week, this-month, last-month or FIRST..LAST "
    "(YYYY-MM-DD..YYYY-MM-DD), in the account's time zone."))
Hours = _once("--hours", "HH:MM-HH:MM applied to every day of the period (account time zone).")
Scope = _once("--scope", "all, ivrs (IVR calls only), direct (direct lines only) or custom.")
IvrName = _several("--ivr", "Only calls of this IVR.")
GroupName = _several("--group", "Only calls taken by agents of this group.")
UserEmail = _several("--user", "Only calls of this user (e-mail).")
Country = _several("--country", "Only customers of this country (ISO2).")
TagName = _several("--tag", "Only calls with this tag.")
MeetingTagName = _several("--tag", "Only meetings with this tag.")
CallDirection = _once("--direction", "in or out.")
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
Transfers = Annotated[list[TransfersCounted] | None, typer.Option("--transfers", case_sensitive=False, help=(
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


SavedFilterName = _once("--filter", (
    "Start from this saved filter (see `ringtui filters list`); options given here override its values."))


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
# The options that take one value (a repeat makes no sense), and what each accepts (for an empty value).
SINGLE_VALUED: dict[str, str] = {
    "period": PERIOD_HELP, "hours": "HH:MM-HH:MM such as 09:00-18:00",
    "scope": "all, ivrs, direct, custom", "direction": "in, out", "transfers": "all, exclude, only",
    "saved": "a saved filter's name (see `ringtui filters list`)",
}
# The options that take several values (repeated or a comma list), and what each accepts.
LISTS = {"ivr": "an IVR's name (see `ringtui ivr list`)",
         "group": "a group's name (see `ringtui groups list`)",
         "user": "a user's e-mail (see `ringtui users list`)",
         "country": "an ISO 3166 two-letter code such as FR", "tag": "a tag's name (see `ringtui tags list`)",
         "type": "answered, missed, voicemail, no-key", "exclude_type": "answered, missed, voicemail, no-key",
         "number": "a number of the account", "redirection": "a step of the --ivr IVR"}


def _checked(name: str, value: Any) -> Any:
    """One option's value as the services take it: a single-valued option given twice is a usage
    error, an empty value (`--period ""`, say an unset shell variable, or `--ivr ,`) is refused
    rather than read as no filter at all."""
    flag = "--filter" if name == "saved" else f"--{name.replace('_', '-')}"
    if name in SINGLE_VALUED and isinstance(value, list):
        if len(value) > 1:
            given = ", ".join(repr(_plain(item)) for item in value)
            raise typer.BadParameter(
                f"given {len(value)} times ({given}); it takes one value: give {flag} once",
                param_hint=f"'{flag}'")
        value = value[0] if value else None
    accepted = SINGLE_VALUED.get(name) or LISTS.get(name)
    items = value if isinstance(value, list) else [value]
    if accepted and any(isinstance(item, str) and not item.replace(",", "").strip() for item in items):
        raise Invalid(f"{flag} is empty: give {accepted}, or leave {flag} out")
    return value


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
            options = {name: _checked(name, values.pop(argument)) for name, argument, _ in chosen}
            return func(filters=filter_options(**options), **values)

        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
        return command

    return decorate
