"""RTP playback (RFC 3550, RFC 3551): a recorded message sent as G.711 PCMU in 20 ms packets.

The campaign's audio is 8 kHz mono 16-bit PCM (converted once at creation); here
it is encoded to mu-law with a table (audioop is deprecated), cut in packets of
160 samples and sent to the address and port of the answer's SDP, each packet at
its own time on the event loop's clock (start + n * 20 ms), so a late wake-up
never accumulates drift. The first packet carries the marker bit.
"""

from __future__ import annotations

import asyncio
import secrets
import struct
from dataclasses import dataclass

PCMU = 0
SAMPLE_RATE = 8000
PACKET_SAMPLES = 160  # 20 ms at 8 kHz
PACKET_S = PACKET_SAMPLES / SAMPLE_RATE
_BIAS, _CLIP = 0x21, 8159  # on 14-bit samples, as G.711 (and audioop) define it


def _ulaw(sample: int) -> int:
    """One signed 16-bit sample as a G.711 mu-law byte."""
    value, mask = sample >> 2, 0xFF
    if value < 0:
        value, mask = -value, 0x7F
    value = min(value, _CLIP) + _BIAS
    segment = max(0, value.bit_length() - 6)  # the power of two the value lies under
    if segment > 7:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


_TABLE = bytes(_ulaw(value - 65536 if value > 32767 else value) for value in range(65536))


def pcmu(pcm: bytes) -> bytes:
    """Little-endian signed 16-bit PCM to mu-law, one byte per sample."""
    samples = struct.unpack(f"<{len(pcm) // 2}H", pcm[: len(pcm) // 2 * 2])
    return bytes(_TABLE[sample] for sample in samples)


def packets(payload: bytes, *, ssrc: int, sequence: int = 0, timestamp: int = 0) -> list[bytes]:
    """The RTP packets of a mu-law payload: 160 bytes each (the last one padded with silence)."""
    out = []
    for index, start in enumerate(range(0, len(payload), PACKET_SAMPLES)):
        chunk = payload[start:start + PACKET_SAMPLES].ljust(PACKET_SAMPLES, b"\xff")
        marker = 0x80 if index == 0 else 0
        header = struct.pack("!BBHII", 0x80, marker | PCMU, (sequence + index) & 0xFFFF,
                             (timestamp + index * PACKET_SAMPLES) & 0xFFFFFFFF, ssrc)
        out.append(header + chunk)
    return out


@dataclass(frozen=True)
class Media:
    host: str
    port: int


def media_of(sdp: str) -> Media | None:
    """Where the first audio stream of an SDP wants its RTP (its own c= line, else the session's);
    None when it has none or refuses it (port 0)."""
    host, port, in_audio = "", 0, False
    for line in sdp.splitlines():
        line = line.strip()
        if line.startswith("m="):
            if in_audio:
                break
            fields = line[2:].split()
            in_audio = bool(fields) and fields[0] == "audio" and len(fields) > 1 and fields[1].isdigit()
            if in_audio:
                port = int(fields[1])
        elif line.startswith("c=") and (in_audio or not port):
            fields = line[2:].split()
            if len(fields) >= 3:
                host = fields[2].split("/")[0]
    return Media(host, port) if host and port and host != "0.0.0.0" else None


def offer(host: str, port: int, direction: str = "sendrecv") -> str:
    """The engine's SDP: one audio stream, PCMU/8000 only."""
    session = secrets.randbelow(2**31)
    return (f"v=0\r\no=ringtui {session} 1 IN IP4 {host}\r\ns=ringtui\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {PCMU}\r\na=rtpmap:{PCMU} PCMU/{SAMPLE_RATE}\r\na=ptime:20\r\n"
            f"a={direction}\r\n")


class RtpSocket(asyncio.DatagramProtocol):
    """The engine's RTP port for one call: it sends, and ignores what comes in."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    @classmethod
    async def open(cls, host: str) -> RtpSocket:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_datagram_endpoint(cls, local_addr=(host, 0))
        return protocol

    @property
    def port(self) -> int:
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")[1]

    async def play(self, payload: bytes, to: Media) -> int:
        """Send `payload` (mu-law) to `to` in real time; the number of packets sent."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        sent = packets(payload, ssrc=secrets.randbits(32), sequence=secrets.randbelow(0x8000),
                       timestamp=secrets.randbits(31))
        start = loop.time()
        for index, packet in enumerate(sent):
            delay = start + index * PACKET_S - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.transport.is_closing():
                return index
            self.transport.sendto(packet, (to.host, to.port))
        return len(sent)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
