"""Every command, sub-command and option of `ringtui` has help text (as sqlite-utils checks)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from typer.main import get_command

from ringtui.cli import app


def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, command) for the command and everything under it, groups included."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not sub.hidden:
            yield from walk(sub, (*path, name))


def _is_placeholder(help_text: str, name: str) -> bool:
    """Stub text such as 'blacklist.' says nothing the command's name does not."""
    return re.sub(r"[^a-z0-9]", "", help_text.lower()) == re.sub(r"[^a-z0-9]", "", name.lower())


def lacking_help(root: Any, prog: str = "ringtui") -> list[str]:
    offenders = []
    for path, command in walk(root):
        label = " ".join((prog, *path))
        text = (command.help or command.short_help or "").strip()
        if path and (not text or _is_placeholder(text, path[-1])):
            offenders.append(f"{label}: no help text" if not text else f"{label}: placeholder help {text!r}")
        for param in command.params:
            if getattr(param, "param_type_name", "") != "option" or param.hidden:
                continue
            if not (param.help or "").strip():
                offenders.append(f"{label} {max(param.opts, key=len)}: no help text")
    return offenders


def test_every_command_and_option_has_help() -> None:
    offenders = lacking_help(get_command(app))
    assert offenders == [], f"{len(offenders)} command(s)/option(s) lack help:\n" + "\n".join(offenders)


def test_the_walk_reaches_nested_sub_commands() -> None:
    paths = {" ".join(path) for path, _ in walk(get_command(app))}
    assert {"users", "users list", "account", "account show", "init"} <= paths


def test_a_command_or_option_without_help_is_reported() -> None:
    probe = typer.Typer()
    sub = typer.Typer()
    probe.add_typer(sub, name="things", help="things.")

    @probe.command("good")
    def good(flag: Annotated[bool, typer.Option("--flag", help="Documented.")] = False) -> None:
        """Documented."""

    @sub.command("bare")
    def bare(size: Annotated[int, typer.Option("--size")] = 1) -> None:
        pass

    assert lacking_help(get_command(probe), prog="probe") == [
        "probe things: placeholder help 'things.'",
        "probe things bare: no help text",
        "probe things bare --size: no help text",
    ]
