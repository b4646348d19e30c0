"""`ringtui apikeys ...` (M4): keys shown once, stored hashed, revocable."""

from __future__ import annotations

from sqlmodel import Session, select

from ringtui.db import engine_for
from ringtui.models import ApiKey
from ringtui.services.apikeys import rights_of
from tests.conftest import ok, refused


def test_create_list_and_revoke(account, db_url):
    created = ok(account("apikeys", "create", "crm", "--rights", "calls:read,feed:read", "--json")).json()
    secret = created["key"]
    assert secret.startswith("rtk_") and created["rights"] == ["calls:read", "feed:read"]
    with Session(engine_for(db_url)) as db:
        stored = db.exec(select(ApiKey)).one()
        assert secret not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
        assert rights_of(db, secret) == {"calls:read", "feed:read"}
        assert rights_of(db, secret + "x") is None
    listed = ok(account("apikeys", "list", "--json")).json()
    assert [k["name"] for k in listed] == ["crm"] and "key" not in listed[0]
    ok(account("apikeys", "revoke", "crm"))
    with Session(engine_for(db_url)) as db:
        assert rights_of(db, secret) is None


def test_bad_key_requests_change_nothing(account, unchanged):
    ok(account("apikeys", "create", "crm", "--rights", "calls:read"))
    ok(account("users", "add", "sup@acme.test", "--role", "supervisor"))
    with unchanged():
        refused(account("apikeys", "create", "crm", "--rights", "calls:read"), "'crm'", "already exists")
        refused(account("apikeys", "create", "x", "--rights", "calls:delete"), "'calls:delete'", "feed:read")
        refused(account("apikeys", "revoke", "nope"), "'nope'")
        refused(account("apikeys", "list", as_user="sup@acme.test"), "supervisor", "developer")
