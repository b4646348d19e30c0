"""Creating the account (`ringtui init`)."""

from __future__ import annotations

from typing import Any

import phonenumbers
from phonenumbers import timezone as phone_timezones
from sqlmodel import select

from ringtui.config import Settings
from ringtui.errors import Conflict, Invalid
from ringtui.models import Account, AuditEntry, User
from ringtui.services.base import open_session
from ringtui.services.phones import check_country
from ringtui.services.users import new_sip_password, new_sip_username
from ringtui.services.validation import check_email, check_name
from ringtui.vocab import Plan, Role, UserStatus


def parse_plan(raw: str) -> Plan:
    try:
        return Plan(raw.strip().lower())
    except ValueError:
        raise Invalid(f"unknown plan {raw!r}; plans: {', '.join(Plan)}") from None


def timezone_for_country(country: str) -> str:
    """The main time zone of a country, from phonenumbers' metadata."""
    example = phonenumbers.example_number(country)
    zones = phone_timezones.time_zones_for_number(example) if example else ()
    zone = zones[0] if zones else "UTC"
    return "UTC" if zone == "Etc/Unknown" else zone


def is_initialised(settings: Settings) -> bool:
    with open_session(settings) as db:
        return db.exec(select(Account.id)).first() is not None


def init_account(
    settings: Settings, *, company: str, plan: str, admin_email: str, country: str
) -> dict[str, Any]:
    """Create the account and its super admin, once per database."""
    name = check_name(company, "company name", max_length=200)
    chosen_plan = parse_plan(plan)
    code = check_country(country)
    email = check_email(admin_email)
    with open_session(settings) as db:
        if db.exec(select(Account.id)).first() is not None:
            raise Conflict("this database already holds an account; `ringtui account show` shows it")
        account = Account(company=name, plan=chosen_plan, country=code,
                          timezone=timezone_for_country(code))
        admin = User(email=email, role=Role.SUPER_ADMIN, status=UserStatus.ACTIVE,
                     first_name="Super", last_name="Admin",
                     sip_username=new_sip_username(email, set()), sip_password=new_sip_password())
        db.add(account)
        db.add(admin)
        db.add(AuditEntry(actor=email, action="account.init", target=name,
                          after={"plan": chosen_plan.value, "country": code}))
        db.commit()
        return account_dict(account) | {"super_admin": email}


def account_dict(account: Account) -> dict[str, Any]:
    return {
        "company": account.company,
        "plan": account.plan,
        "country": account.country,
        "timezone": account.timezone,
        "addons": account.addons,
        "max_tags_per_call": account.max_tags_per_call,
        "retention_days": account.retention_days,
        "created_at": account.created_at,
    }
