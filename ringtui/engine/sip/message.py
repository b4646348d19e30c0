"""Reading and writing SIP messages: a tolerant parser in front of aiovoip's message classes.

aiovoip's own parser (`Message.from_raw_headers`) rejects valid messages (compact
headers, "Name:value" without a space, folded lines, a Via without a port) and
raises on anything else; this one accepts what RFC 3261 7.3 allows, and raises
`MalformedMessage` (saying whether a 400 can be sent back) for the rest. The
result is an aiovoip `Request` or `Response`, so aiovoip's dialogs can take it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiovoip.message import Request, Response
from aiovoip.utils import STATUS
from multidict import CIMultiDict

SERVER = "ringtui"
COMPACT = {"i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
           "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To", "v": "Via",
           "o": "Event", "r": "Refer-To", "b": "Referred-By", "u": "Allow-Events", "x": "Session-Expires"}
# Headers whose comma-separated values are separate entries (RFC 3261 7.3.1)
LISTS = frozenset({"via", "contact", "route", "record-route", "allow", "supported", "www-authenticate"})
MANDATORY = ("Via", "From", "To", "Call-ID", "CSeq")
_REQUEST_LINE = re.compile(r"([A-Za-z]+) (\S+) SIP/2\.0$")
_STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6][0-9]{2})(?: (.*))?$")
_VIA = re.compile(r"SIP\s*/\s*2\.0\s*/\s*([A-Za-z]+)\s+([^;\s]+)\s*(;.*)?$")
_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+$")


class MalformedMessage(ValueError):
    """A datagram that is not a usable SIP message; `request` is set when a 400 can still be sent."""

    def __init__(self, reason: str, request: SipRequest | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.request = request


@dataclass
class ViaHop:
    transport: str
    host: str
    port: int | None
    params: dict[str, str | None] = field(default_factory=dict)

    def __str__(self) -> str:
        sent_by = f"{self.host}:{self.port}" if self.port else self.host
        params = "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params.items())
        return f"SIP/2.0/{self.transport} {sent_by}{params}"


class SipRequest(Request):
    """An aiovoip Request that remembers its Request-URI and where it came from."""

    uri: str = ""
    source: tuple[str, int] = ("", 0)

    @property
    def via(self) -> list[ViaHop]:
        return [parse_via(value) for value in header_values(self.headers, "Via")]


def header_values(headers: CIMultiDict, name: str) -> list[str]:
    """Every value of a header as a list (aiovoip keeps a repeated header as a list in one entry)."""
    value = headers.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def split_commas(value: str) -> list[str]:
    """Split a header value at the commas that separate entries, not those in quotes or <...>."""
    if "," not in value:  # nearly always: one Via, one Contact
        value = value.strip()
        return [value] if value else []
    parts, current, quoted, angle = [], [], False, False
    previous = ""
    for char in value:
        if char == '"' and previous != "\\":
            quoted = not quoted
        elif char == "<" and not quoted:
            angle = True
        elif char == ">" and not quoted:
            angle = False
        if char == "," and not quoted and not angle:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        previous = char
    parts.append("".join(current).strip())
    return [part for part in parts if part]


def parse_params(text: str) -> dict[str, str | None]:
    """`;a=1;b;c="x"` -> {"a": "1", "b": None, "c": "x"} (names lower-cased)."""
    params: dict[str, str | None] = {}
    for item in text.split(";"):
        name, equals, value = item.strip().partition("=")
        if name:
            params[name.strip().lower()] = value.strip().strip('"') if equals else None
    return params


def parse_via(value: str) -> ViaHop:
    match = _VIA.match(value.strip())
    if match is None:
        raise MalformedMessage(f"unreadable Via {value!r}")
    transport, sent_by, params = match.groups()
    host, port = sent_by, None
    if sent_by.startswith("["):
        host, _, rest = sent_by.partition("]")
        host += "]"
        port = rest[1:] or None
    elif ":" in sent_by:
        host, port = sent_by.rsplit(":", 1)
    if port is not None and not port.isdigit():
        raise MalformedMessage(f"Via port {port!r} is not a number")
    return ViaHop(transport.upper(), host, int(port) if port else None, parse_params(params or ""))


@dataclass(frozen=True)
class NameAddr:
    """A From/To/Contact value: `"name" <uri>;params` or `uri;params`."""

    uri: str
    params: dict[str, str | None]
    display: str = ""

    @property
    def user(self) -> str:
        rest = self.uri.split(":", 1)[1] if ":" in self.uri else self.uri
        return rest.split("@", 1)[0] if "@" in rest else ""

    @property
    def host(self) -> str:
        rest = self.uri.split(":", 1)[1] if ":" in self.uri else self.uri
        hostport = rest.split("@", 1)[-1].split(";", 1)[0].split("?", 1)[0]
        if hostport.startswith("["):
            return hostport.split("]", 1)[0] + "]"
        return hostport.rsplit(":", 1)[0] if ":" in hostport else hostport


def parse_name_addr(value: str) -> NameAddr:
    value = value.strip()
    if "<" in value:
        display, _, rest = value.partition("<")
        uri, closed, params = rest.partition(">")
        if not closed:
            raise MalformedMessage(f"unclosed <...> in {value!r}")
        return NameAddr(uri.strip(), parse_params(params), display.strip().strip('"'))
    uri, _, params = value.partition(";")  # without <>, parameters belong to the header (RFC 3261 20.10)
    if ":" not in uri:
        raise MalformedMessage(f"no URI in {value!r}")
    return NameAddr(uri.strip(), parse_params(params))


def _header_lines(head: str) -> list[str]:
    lines: list[str] = []
    for line in head.split("\n"):
        line = line.rstrip("\r")
        if line[:1] in (" ", "\t") and lines:  # folded: continues the previous header
            lines[-1] += " " + line.strip()
        elif line:
            lines.append(line)
    return lines


def _headers(lines: Iterable[str]) -> CIMultiDict:
    headers: CIMultiDict = CIMultiDict()
    for line in lines:
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not _TOKEN.match(name):
            raise MalformedMessage(f"unreadable header line {line[:60]!r}")
        name = COMPACT.get(name.lower(), name)
        values = split_commas(value) if name.lower() in LISTS else [value.strip()]
        for item in values:
            existing = headers.get(name)
            if existing is None:
                headers[name] = item
            else:
                headers[name] = [*(existing if isinstance(existing, list) else [existing]), item]
    return headers


def parse(data: bytes, source: tuple[str, int]) -> SipRequest | Response:
    """A datagram as an aiovoip message; MalformedMessage when it is not a SIP message one can use."""
    separator = data.find(b"\r\n\r\n")
    head, body = (data[:separator], data[separator + 4:]) if separator >= 0 else (data, b"")
    text = head.decode("utf-8", errors="replace").lstrip("\r\n")
    lines = _header_lines(text)
    if not lines:
        raise MalformedMessage("empty datagram")
    first, headers = lines[0], _headers(lines[1:])
    missing = [name for name in MANDATORY if name not in headers]
    status = _STATUS_LINE.match(first)
    if status is not None:
        if missing:
            raise MalformedMessage(f"response without {', '.join(missing)}")
        cseq, method = _cseq(headers, None)
        message: SipRequest | Response = Response(
            status_code=int(status.group(1)), status_message=status.group(2) or "", headers=headers,
            first_line=first, cseq=cseq, method=method)
    else:
        request_line = _REQUEST_LINE.match(first)
        if request_line is None:
            raise MalformedMessage(f"not a SIP request or status line: {first[:60]!r}")
        method = request_line.group(1).upper()
        if "Via" not in headers:
            raise MalformedMessage(f"{method} without Via")
        for via in header_values(headers, "Via"):
            parse_via(via)
        if missing:
            raise MalformedMessage(f"{method} without {', '.join(missing)}", _bare_request(method, headers))
        try:
            cseq, cseq_method = _cseq(headers, None)
        except MalformedMessage as error:
            raise MalformedMessage(error.reason, _bare_request(method, headers)) from None
        if cseq_method != method:
            raise MalformedMessage(f"CSeq method {cseq_method} differs from {method}",
                                   _bare_request(method, headers))
        message = SipRequest(method=method, cseq=cseq, headers=headers, first_line=first)
        message.uri = request_line.group(2)
    if "Content-Length" in headers:
        length = headers["Content-Length"]
        if not str(length).strip().isdigit():
            raise MalformedMessage(f"Content-Length {length!r} is not a number",
                                   message if isinstance(message, SipRequest) else None)
        body = body[:int(str(length).strip())]
    message._raw_payload = body
    if isinstance(message, SipRequest):
        message.source = source
    return message


def _bare_request(method: str, headers: CIMultiDict) -> SipRequest:
    """Enough of a request to answer it with a 400: its Via and whatever else it had."""
    for name, default in (("From", "<sip:unknown@invalid>"), ("To", "<sip:unknown@invalid>"),
                          ("Call-ID", ""), ("CSeq", f"0 {method}")):
        headers.setdefault(name, default)
    request = SipRequest(method=method, cseq=0, headers=headers, first_line=f"{method} sip:invalid SIP/2.0")
    return request


def _cseq(headers: CIMultiDict, request: SipRequest | None) -> tuple[int, str]:
    number, _, method = str(headers["CSeq"]).strip().partition(" ")
    if not number.isdigit() or not method.strip():
        raise MalformedMessage(f"unreadable CSeq {headers['CSeq']!r}", request)
    return int(number), method.strip().upper()


def reply(request: SipRequest, status: int, reason: str | None = None, *, to_tag: str = "",
          extra: Iterable[tuple[str, str]] = (), body: str = "") -> bytes:
    """The bytes of a response to `request` (RFC 3261 8.2.6): its Via (the top one with received and
    rport filled in, RFC 3581), From, To (with our tag), Call-ID and CSeq, then `extra` headers
    and `body` (its Content-Type is among `extra`)."""
    headers: CIMultiDict = CIMultiDict()
    hops = request.via
    top = hops[0]
    source_host, source_port = request.source
    if top.host != source_host:
        top.params["received"] = source_host
    if "rport" in top.params:
        top.params["rport"] = str(source_port)
    headers["Via"] = [str(hop) for hop in hops] if len(hops) > 1 else str(top)
    headers["From"] = request.headers["From"]
    to = request.headers["To"]
    if to_tag and status > 100 and ";tag=" not in to.replace(" ", "").lower():
        to = f"{to};tag={to_tag}"
    headers["To"] = to
    headers["Call-ID"] = request.headers["Call-ID"]
    headers["CSeq"] = f"{request.cseq} {request.method}"  # aiovoip drops a CSeq number 0 otherwise
    headers["Server"] = SERVER
    for name, value in extra:
        existing = headers.get(name)
        headers[name] = value if existing is None else [
            *(existing if isinstance(existing, list) else [existing]), value]
    response = Response(status_code=status, status_message=reason or STATUS.get(status, "Unknown"),
                        headers=headers, cseq=request.cseq, method=request.method, payload=body or None)
    return response.encode()


def reply_address(request: SipRequest) -> tuple[str, int]:
    """Where a response over UDP goes (RFC 3261 18.2.2, RFC 3581): the source address, and the source
    port when the client asked for rport, else the port of its Via (5060 by default)."""
    top = request.via[0]
    host, port = request.source
    if "rport" in top.params:
        return host, port
    return host, top.port or 5060


def dialog_of_2xx(response: Response, request_uri: str) -> tuple[str, str, list[str]]:
    """What a 2xx to our INVITE fixes for the dialog (RFC 3261 12.1.2): the To header with the remote
    tag, the remote target (its Contact, else the INVITE's Request-URI) and the route set (its
    Record-Route, reversed)."""
    contacts = header_values(response.headers, "Contact")
    target = parse_name_addr(contacts[0]).uri if contacts else request_uri
    return str(response.headers["To"]), target, header_values(response.headers, "Record-Route")[::-1]
