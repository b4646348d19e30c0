"""The Asterisk CDR reader: channel names, and batches written across a file longer than one batch."""

from __future__ import annotations

import pytest

from ringtui.services import cdr_import
from ringtui.services.cdr_import import _peer
from tests.commands.test_calls_import import ANSWERED_IN, master, pbx  # noqa: F401  (fixture)
from tests.conftest import ok, refused


@pytest.mark.parametrize(("channel", "peer"), [
    ("SIP/201-0000001a", "201"),
    ("PJSIP/ana-00000001", "ana"),
    ("IAX2/office-1234", "office"),
    ("Local/201@from-queue-00000012;1", "201"),
    ("SIP/trunk-provider-0000abcd", "trunk-provider"),
    ("", ""),
    ("garbage", ""),
])
def test_the_peer_of_a_channel_is_its_endpoint_name(channel, peer):
    assert _peer(channel) == peer


def test_a_file_longer_than_a_batch_is_written_batch_by_batch(pbx, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(cdr_import, "BATCH", 3)
    lines = [ANSWERED_IN.replace("1762074000.1", f"1762074000.{n}") for n in range(1, 9)]
    path = master(tmp_path, *lines)
    ok(pbx("calls", "import", path, "--format", "asterisk-csv"))
    lines.append(ANSWERED_IN.replace("1762074000.1", "1762074000.99"))
    summary = ok(pbx("calls", "import", master(tmp_path, *lines), "--json")).json()
    assert (summary["imported"], summary["already_imported"]) == (1, 8)
    assert len(ok(pbx("calls", "list", "--json")).json()) == 9


def test_a_bad_line_after_batches_were_written_rolls_them_back(pbx, tmp_path, monkeypatch, unchanged):  # noqa: F811
    monkeypatch.setattr(cdr_import, "BATCH", 3)
    lines = [ANSWERED_IN.replace("1762074000.1", f"1762074000.{n}") for n in range(1, 9)]
    lines.append(ANSWERED_IN.replace("1762074000.1", "1762074000.9").replace('"ANSWERED"', '"LOST"'))
    with unchanged():
        refused(pbx("calls", "import", master(tmp_path, *lines)), "line 9: unknown disposition 'LOST'")
