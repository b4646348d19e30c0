"""Users administration (U1, U4, U7): the same services, messages and role checks as `ringtui users`."""

from __future__ import annotations

import pytest

from ringtui.screens.admin.users import UsersScreen
from ringtui.screens.widgets.forms import DetailScreen, FormScreen
from tests.conftest import ok
from tests.screens.screens_fixtures import (  # noqa: F401
    ACC,
    ANA,
    BOB,
    SUP,
    calls_center_fixture,
    fill,
    form_error,
    host,
    rows,
    select_row,
    status,
)

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("calls_center")]


def user(cli, email: str) -> dict:
    return ok(cli("users", "show", email, "--json")).json()


async def test_users_are_listed_and_opened(db_url):
    app = host(UsersScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert [r["email"] for r in rows(app)] == [ACC, ANA, BOB, "boss@acme.test", SUP]
        select_row(app, "email", ANA)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        permissions = {r["name"]: r["value"] for r in rows(app, "permissions")}
        assert permissions["tag_calls"] is True


async def test_add_a_user_then_set_role_permissions_and_snooze(db_url, cli):
    app = host(UsersScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await fill(pilot, "a", email="Dora@Acme.test", first_name="Dora", groups="Team A")
        assert status(app) == "Invitation sent to dora@acme.test."
        assert "dora@acme.test" in [r["email"] for r in rows(app)]
        assert user(cli, "dora@acme.test")["groups"] == ["Team A"]
        select_row(app, "email", "dora@acme.test")
        await fill(pilot, "o", role="supervisor", scopes="ivr:Sales, group:Team A")
        assert user(cli, "dora@acme.test")["role"] == "supervisor"
        assert sorted(user(cli, "dora@acme.test")["scopes"]) == ["group:Team A", "ivr:Sales"]
        await fill(pilot, "P", pairs="tag_calls=false")
        assert status(app) == "Permissions of dora@acme.test: tag_calls=False."
        await fill(pilot, "z", reason="Lunch")
        assert user(cli, "dora@acme.test")["snooze_reason"] == "Lunch"
        await fill(pilot, "z", reason="off")
        assert user(cli, "dora@acme.test")["snooze_reason"] is None


async def test_refusals_show_the_cli_message_and_change_nothing(db_url, cli, unchanged):
    app = host(UsersScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "a", email=ANA)
            assert isinstance(app.screen, FormScreen)
            cli_error = cli("users", "add", ANA).stderr.strip()
            assert form_error(app) == cli_error == f"Error: user {ANA} already exists"
            await pilot.press("escape")
            select_row(app, "email", ANA)
            await fill(pilot, "o", role="emperor")
            assert form_error(app).startswith("Error: unknown role 'emperor'")
            await pilot.press("escape")
            await fill(pilot, "P", pairs="colour=blue")
            assert "colour" in form_error(app)


async def test_an_accountant_cannot_open_users_admin(db_url):
    app = host(UsersScreen, db_url, ACC)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert rows(app) == []
        assert status(app).startswith(f"Error: {ACC}")


async def test_a_supervisor_cannot_add_users(db_url, unchanged):
    app = host(UsersScreen, db_url, SUP)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "a", email="eve@acme.test")
            assert form_error(app).startswith(f"Error: {SUP}")
