"""`campaign voice create` (K3): an account number, a message converted once to 8 kHz mono, recipients."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import pytest
from sqlmodel import Session

from ringtui import db as ringtui_db
from ringtui.models import PhoneNumber
from tests.conftest import ok, refused

OURS = "+33140506070"


@pytest.fixture
def voice(advanced_account, db_url):
    ok(advanced_account("account", "power-dialer", "on"))
    with Session(ringtui_db.engine_for(db_url)) as db:
        db.add(PhoneNumber(e164=OURS, country="FR", format="national", status="available"))
        db.add(PhoneNumber(e164="+33140506071", country="FR", format="national", status="porting"))
        db.commit()
    return advanced_account


def tone(path: Path, seconds: float, rate: int = 44100, channels: int = 2) -> str:
    frames = int(seconds * rate)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        sample = [struct.pack("<h", int(8000 * math.sin(i / rate * 2 * math.pi * 440)))
                  for i in range(frames)]
        out.writeframes(b"".join(s * channels for s in sample))
    return str(path)


def test_a_stereo_44k_wav_is_converted_once_to_8k_mono(voice, tmp_path):
    result = ok(voice("campaign", "voice", "create", "Reminder", "--from", "01 40 50 60 70", "--message-file",
                      tone(tmp_path / "msg.wav", 2.0), "--to", "0612345678,0698765432", "--json")).json()
    assert (result["from_number"], result["recipients"], result["audio_seconds"]) == (OURS, 2, 2.0)
    with wave.open(result["audio"], "rb") as converted:
        assert (converted.getframerate(), converted.getnchannels(), converted.getsampwidth()) == (8000, 1, 2)
        assert converted.getnframes() == 16000
    assert ok(voice("campaign", "launch", "Reminder", "--json")).json()["status"] == "running"


def test_refusals_name_the_bad_value(voice, tmp_path, unchanged):
    good = tone(tmp_path / "msg.wav", 1.0)
    fake = tmp_path / "fake.mp3"
    fake.write_text("not audio")
    base = ("campaign", "voice", "create", "V", "--to", "0612345678")
    with unchanged():
        refused(voice(*base, "--from", "+33140506099", "--message-file", good), "+33140506099",
                "not one of the account's numbers")
        refused(voice(*base, "--from", "+33140506071", "--message-file", good), "still being ported")
        refused(voice(*base, "--from", OURS, "--message-file", str(fake)), "fake.mp3", "not a readable MP3")
        ogg = str(tmp_path / "msg.ogg")
        refused(voice(*base, "--from", OURS, "--message-file", ogg), ".ogg", ".wav or .mp3")
        refused(voice(*base, "--from", OURS, "--message-file", tone(tmp_path / "short.wav", 0.2)),
                "at least half a second")


def test_voice_campaigns_need_the_power_dialer(voice, tmp_path, unchanged):
    ok(voice("account", "power-dialer", "off"))
    with unchanged():
        refused(voice("campaign", "voice", "create", "V", "--from", OURS, "--message-file",
                      tone(tmp_path / "m.wav", 1.0), "--to", "0612345678"), "power dialer")
