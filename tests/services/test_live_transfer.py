"""Who may transfer a call from the live screens (S6): the transfer_calls permission (U4)."""

from __future__ import annotations

import pytest

from ringtui.config import Settings
from ringtui.errors import PermissionDenied
from ringtui.services.base import operation
from ringtui.services.live import require_live_action
from tests.conftest import ok

AGENT, SUPERVISOR = "ana@acme.test", "sue@acme.test"


@pytest.fixture
def people(account, db_url):
    ok(account("groups", "create", "Sales"))
    ok(account("users", "add", AGENT, "--group", "Sales"))
    ok(account("users", "add", SUPERVISOR))
    ok(account("users", "role", SUPERVISOR, "supervisor", "--scope", "group:Sales"))
    return account, Settings(database_url=db_url)


def test_an_agent_transfers_their_own_call_and_a_supervisor_anyones_by_default(people):
    _, settings = people
    with operation(settings, AGENT) as op:
        require_live_action(op, "transfer", AGENT)
    with operation(settings, SUPERVISOR) as op:
        require_live_action(op, "transfer", AGENT)


def test_transfer_calls_false_refuses_with_the_permission_named(people):
    cli, settings = people
    ok(cli("users", "perms", AGENT, "transfer_calls=false"))
    with operation(settings, AGENT) as op, pytest.raises(PermissionDenied) as refused:
        require_live_action(op, "transfer", AGENT)
    assert str(refused.value) == f"{AGENT} may not transfer calls (permission transfer_calls=false)"


def test_an_agent_may_not_transfer_a_colleagues_call(people):
    cli, settings = people
    ok(cli("users", "add", "bob@acme.test"))
    with operation(settings, AGENT) as op, pytest.raises(PermissionDenied):
        require_live_action(op, "transfer", "bob@acme.test")


def test_a_supervisor_may_not_transfer_the_call_of_an_agent_outside_her_groups(people):
    cli, settings = people
    ok(cli("users", "add", "bob@acme.test"))
    with operation(settings, SUPERVISOR) as op, pytest.raises(PermissionDenied) as refused:
        require_live_action(op, "transfer", "bob@acme.test")
    assert str(refused.value) == f"bob@acme.test is outside the groups {SUPERVISOR} supervises"
