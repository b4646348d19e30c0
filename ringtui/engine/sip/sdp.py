"""Session descriptions (RFC 4566), as far as a signalling-only gateway needs them: the direction of
the streams, and the answer to a new offer inside a dialog (RFC 3264 6.1 and 8: hold and resume)."""

from __future__ import annotations

DIRECTIONS = frozenset({"sendrecv", "sendonly", "recvonly", "inactive"})
ANSWER_TO = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


def _is_direction(line: str) -> bool:
    return line.startswith("a=") and line[2:].strip() in DIRECTIONS


def direction(sdp: str) -> str:
    """The direction of the first stream: its own attribute, else the session's, else sendrecv."""
    session, in_media = "sendrecv", False
    for line in sdp.splitlines():
        if line.startswith("m="):
            if in_media:
                break
            in_media = True
        elif _is_direction(line):
            if in_media:
                return line[2:].strip()
            session = line[2:].strip()
    return session


def with_direction(sdp: str, wanted: str) -> str:
    """`sdp` with every stream's direction attribute set to `wanted` (at the end of each media section)."""
    lines, media = [], False
    for line in (line for line in sdp.splitlines() if line and not _is_direction(line)):
        if line.startswith("m=") and media:
            lines.append(f"a={wanted}")
        media = media or line.startswith("m=")
        lines.append(line)
    if media:
        lines.append(f"a={wanted}")
    return "\r\n".join(lines) + "\r\n"


def next_version(sdp: str) -> str:
    """`sdp` with its origin's session version plus one (a changed description, RFC 3264 8)."""
    lines = sdp.splitlines()
    for index, line in enumerate(lines):
        fields = line.split(" ")
        if line.startswith("o=") and len(fields) >= 6 and fields[2].isdigit():
            fields[2] = str(int(fields[2]) + 1)
            lines[index] = " ".join(fields)
            break
    return "\r\n".join(lines) + "\r\n"


def answer_again(current: str, offer: str) -> str:
    """The answer to a new offer in an established dialog: the session already agreed, with the
    direction the offer asks for (sendonly -> recvonly for a hold ...) and a new version when that
    changes it; no offer (an offerless re-INVITE): the current description, unchanged, is ours."""
    if not current.strip() or not offer.strip():
        return current
    wanted = ANSWER_TO[direction(offer)]
    if direction(current) == wanted:
        return current
    return next_version(with_direction(current, wanted))


def new_session(current: str, other: str) -> str:
    """`other`'s streams under `current`'s origin, its version plus one: what a party connected to one
    phone is offered when another phone takes its place (a transfer), a changed session of the same
    dialog (RFC 3264 8) rather than a stranger's origin."""
    origin = next((line for line in next_version(current).splitlines() if line.startswith("o=")), None)
    lines = [origin if line.startswith("o=") and origin else line for line in other.splitlines() if line]
    return "\r\n".join(lines) + "\r\n"
