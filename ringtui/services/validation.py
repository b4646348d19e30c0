"""Small checks shared by services: e-mail addresses, colours, names."""

from __future__ import annotations

import re
from pathlib import Path

from ringtui.errors import Invalid

_INTERNAL_TLDS = ("local", "test", "localhost")
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def check_email(raw: str) -> str:
    """A syntactically valid e-mail address, normalised to lower case."""
    import email_validator
    from email_validator import EmailNotValidError, validate_email

    # Company PBXs live on internal domains (.local, .test); the library refuses
    # those special-use names by default, which no operator would expect.
    email_validator.SPECIAL_USE_DOMAIN_NAMES = [
        name for name in email_validator.SPECIAL_USE_DOMAIN_NAMES if name not in _INTERNAL_TLDS]
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise Invalid(f"invalid e-mail address {raw!r}: {error}") from None
    return result.normalized.lower()


def check_name(raw: str, what: str, *, max_length: int = 100) -> str:
    name = raw.strip()
    if not name:
        raise Invalid(f"{what} must not be empty")
    if len(name) > max_length:
        raise Invalid(f"{what} {raw!r} is longer than {max_length} characters")
    return name


def check_colour(raw: str) -> str:
    colour = raw.strip()
    if not colour.startswith("#"):
        colour = "#" + colour
    if not _HEX_COLOUR.match(colour):
        raise Invalid(f"invalid colour {raw!r}: give a hex colour such as #1E90FF")
    return colour.upper()


def read_text_file(path: Path, *, save_as: str = "UTF-8", fallback_encoding: str | None = None) -> str:
    """A text file people made (CSV, TOML, TXT), with errors that name it.

    UTF-8 with or without a byte-order mark; with `fallback_encoding`, files that are
    not UTF-8 (spreadsheets saved on Windows) are read in that encoding instead of refused.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Invalid(f"cannot read {path}: no such file") from None
    except OSError as error:
        raise Invalid(f"cannot read {path}: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if fallback_encoding:
            return data.decode(fallback_encoding, errors="replace")
        raise Invalid(f"{path} is not UTF-8 text (byte {error.start}): save it as {save_as}") from None
