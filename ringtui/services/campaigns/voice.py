"""Voice-message campaigns (K3): an outgoing number, a recorded message, the numbers to call.

The message (WAV or MP3) is converted once, at creation, to what the phone network
plays: 8 kHz mono 16-bit PCM (G.711 is encoded from it per call), and kept as a WAV
file in the user data directory. The engine (engine/campaigns/voice.py) calls each
number from the outgoing number and plays it on answer as PCMU over RTP.
"""

from __future__ import annotations

import re
import wave
from pathlib import Path
from typing import Any

from sqlmodel import select

from ringtui.errors import Conflict, Invalid, NotFound
from ringtui.models import Campaign, PhoneNumber
from ringtui.services.base import Operation, audit
from ringtui.services.campaigns.access import require_campaign_access
from ringtui.services.campaigns.recipients import load_list, store_recipients
from ringtui.services.phones import check_country, to_e164
from ringtui.services.validation import check_name
from ringtui.vocab import CampaignKind, CampaignStatus, NumberStatus

SAMPLE_RATE = 8000
AUDIO_KINDS = (".wav", ".mp3")
MAX_SECONDS = 300


def audio_folder() -> Path:
    from platformdirs import user_data_path

    return user_data_path("ringtui") / "campaign-audio"


def _decode(path: Path) -> bytes:
    """8 kHz mono signed 16-bit samples of a WAV or MP3 file (miniaudio: resampled, downmixed)."""
    import miniaudio

    if path.suffix.lower() not in AUDIO_KINDS:
        raise Invalid(f"{path}: the message is a .wav or .mp3 file, not {path.suffix or 'no extension'!r}")
    if not path.is_file():
        raise Invalid(f"cannot read {path}: no such file")
    try:
        sound = miniaudio.decode_file(str(path), output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1,
                                      sample_rate=SAMPLE_RATE)
    except miniaudio.DecodeError as error:
        raise Invalid(f"{path} is not a readable {path.suffix[1:].upper()} file ({error})") from None
    samples = sound.samples.tobytes()
    seconds = len(samples) / 2 / SAMPLE_RATE
    if seconds < 0.5:
        raise Invalid(f"{path} holds {seconds:.1f} s of sound; a voice message needs at least half a second")
    if seconds > MAX_SECONDS:
        raise Invalid(f"{path} lasts {seconds:.0f} s; a voice message lasts at most {MAX_SECONDS} s")
    return samples


def _write_wav(samples: bytes, name: str) -> Path:
    folder = audio_folder()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{re.sub(r'[^A-Za-z0-9_-]+', '-', name).strip('-') or 'message'}.wav"
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples)
    return target


def _outgoing_number(op: Operation, raw: str) -> str:
    e164 = to_e164(raw, op.account.country)
    number = op.session.exec(select(PhoneNumber).where(PhoneNumber.e164 == e164)).first()
    if number is None:
        raise NotFound(f"--from {e164} is not one of the account's numbers (see `ringtui numbers list`)")
    if number.status == NumberStatus.PORTING:
        raise Invalid(f"--from {e164} is still being ported in; it can call out once ported")
    return e164


def create_voice_campaign(
    op: Operation, name: str, *, from_number: str, message_file: Path, recipients: Path | None = None,
    to: str | None = None, country: str | None = None, skip_invalid: bool = False,
) -> dict[str, Any]:
    require_campaign_access(op, CampaignKind.VOICE)
    name = check_name(name, "campaign name")
    caller = _outgoing_number(op, from_number)
    if op.session.exec(select(Campaign.id).where(Campaign.name == name)).first() is not None:
        raise Conflict(f"a campaign named {name!r} already exists (see `ringtui campaign list`)")
    samples = _decode(message_file)
    region = check_country(country or op.account.country)
    checked = load_list(op, file=recipients, typed=to, country=region, skip_invalid=skip_invalid)
    audio = _write_wav(samples, name)
    campaign = Campaign(name=name, kind=CampaignKind.VOICE, country=region, created_by=op.actor.id,
                        from_number=caller, audio_path=str(audio))
    op.session.add(campaign)
    op.session.flush()
    store_recipients(op, campaign.id, checked)
    seconds = round(len(samples) / 2 / SAMPLE_RATE, 2)
    result = {"name": name, "kind": CampaignKind.VOICE, "status": CampaignStatus.DRAFT, "from_number": caller,
              **checked.summary(), "audio": str(audio), "audio_seconds": seconds, "source": checked.source}
    audit(op, "campaign.create", name, after={k: v for k, v in result.items() if k != "invalid_lines"})
    return result
