"""Small checks shared by services: e-mail addresses, colours, names."""

from __future__ import annotations

import re

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
