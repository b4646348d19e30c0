"""The demo account: a realistic contact center seeded through the services.

About 40 users in 5 groups with varied roles and permissions, numbers in three
countries, 3 IVRs, 8 tags, 200 contacts and a few blacklist entries. Seeded
from a fixed random seed, so every demo database is the same.
"""

from __future__ import annotations

import csv
import random
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import phonenumbers
from sqlalchemy import func
from sqlmodel import select

from ringtui.config import Settings
from ringtui.models import (
    BlacklistEntry,
    CallRecord,
    Contact,
    Ivr,
    Meeting,
    OmniMessage,
    PhoneNumber,
    SmsMessage,
    Tag,
    User,
    UserGroup,
)
from ringtui.models.types import utcnow
from ringtui.services import blacklist, contacts, groups, ivrs, numbers, tags, users
from ringtui.services.base import Operation, operation
from ringtui.services.setup import account_dict, init_account
from ringtui.vocab import NumberStatus, Role, UserStatus

COMPANY = "Atlantic Contact"
DOMAIN = "atlantic-contact.fr"
ADMIN = f"admin@{DOMAIN}"
SEED = 2026

FIRST_NAMES = (
    "Camille", "Lucas", "Léa", "Hugo", "Chloé", "Louis", "Manon", "Jules", "Inès", "Arthur",
    "Lucía", "Mateo", "Sofía", "Pablo", "Valeria", "Diego", "Olivia", "Harry", "Amelia", "George",
    "Emma", "Noah", "Alice", "Gabriel", "Sarah", "Adam", "Jade", "Raphaël", "Elena", "Marc",
)
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "García", "Fernández", "López", "Martínez", "Sánchez", "Smith", "Jones", "Taylor",
    "Brown", "Wilson", "Lefebvre", "Girard", "Bonnet", "Fontaine", "Rousseau",
)
GROUPS = (("Support", False), ("Sales", False), ("Billing", False), ("Tech", False),
          ("Night shift", True))
SNOOZE_REASONS = ("Lunch", "Meeting", "Training", "Break")
TAGS = (
    ("Sale", "#2E8B57", "Close of a sale"), ("Complaint", "#DC143C", ""),
    ("Callback", "#1E90FF", "Customer asked to be called back"), ("VIP", "#FFD700", ""),
    ("Billing", "#8A2BE2", ""), ("Technical issue", "#FF8C00", ""),
    ("Wrong number", "#708090", ""), ("Spam", "#000000", "Also add the number to the blacklist"),
)
COMPANIES = ("Boulangerie Dupont", "Hotel Miramar", "Garage Central", "Clinique du Parc",
             "Iberia Logistics", "Thames Consulting", "Café de la Gare", "Ferretería López",
             "Northern Rail Supplies", "Cabinet Morel", None, None)


def _people(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """(first name, last name, e-mail) of distinct people."""
    seen: set[str] = set()
    people = []
    while len(people) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{_ascii(first)}.{_ascii(last)}@{DOMAIN}"
        if email not in seen:
            seen.add(email)
            people.append((first, last, email))
    return people


def _ascii(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", "")


def seed_demo(
    settings: Settings,
    *,
    company: str | None = None,
    plan: str = "advanced",
    admin_email: str | None = None,
    country: str = "FR",
) -> dict[str, Any]:
    """Create and fill the demo account in an empty database; returns its summary."""
    init_account(settings, company=company or COMPANY, plan=plan,
                 admin_email=admin_email or ADMIN, country=country)
    rng = random.Random(SEED)
    with operation(settings) as op:
        _seed(op, rng)
    return summary(settings)


def _seed(op: Operation, rng: random.Random) -> None:
    for name, is_open in GROUPS:
        groups.create_group(op, name, open_=is_open)
    _seed_ivrs(op)
    _seed_numbers(op)
    _seed_users(op, rng)
    _seed_scenarios(op)
    for name, color, conditions in TAGS:
        tags.add_tag(op, name, color=color, conditions=conditions)
    tags.max_tags_per_call(op, 3)
    _seed_contacts(op, rng)
    _seed_blacklist(op)


def _valid_mobile(rng: random.Random, country: str, national_prefix: str, digits: int) -> str:
    """A random valid mobile number of the country, in E.164."""
    while True:
        candidate = f"+{phonenumbers.country_code_for_region(country)}{national_prefix}"
        candidate += "".join(rng.choice("0123456789") for _ in range(digits))
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate


def _seed_contacts(op: Operation, rng: random.Random, count: int = 200) -> None:
    """200 customers, imported from a CSV file the way an admin would (T2)."""
    mobiles = (("FR", "6", 8), ("FR", "7", 8), ("ES", "6", 8), ("GB", "7", 9))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo-customers.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["name", "number", "company", "segment"])
            for _ in range(count):
                numbers = [_valid_mobile(rng, *rng.choice(mobiles))]
                if rng.random() < 0.2:
                    numbers.append(_valid_mobile(rng, *rng.choice(mobiles)))
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                writer.writerow([name, ";".join(numbers), rng.choice(COMPANIES) or "",
                                 rng.choice(("retail", "pro", "key account"))])
        contacts.import_contacts(op, path)


def _seed_blacklist(op: Operation) -> None:
    blacklist.add_entry(op, "+33899*", "out")
    blacklist.add_entry(op, "+33162000000", "in")
    blacklist.add_entry(op, "+34902*", "both")


def _seed_ivrs(op: Operation) -> None:
    for name in ("Standard", "Soporte España", "UK Sales"):
        ivrs.create_ivr(op, name)


def _seed_scenarios(op: Operation) -> None:
    """The IVRs' steps, hours and settings, from the scenario file shipped with ringtui."""
    ivrs.apply_file(op, Path(__file__).resolve().parent.parent / "data" / "demo-ivrs.toml")


# (country, format, region, how many): the account's numbers (N1-N2)
NUMBER_PLAN = (
    ("FR", "local", "Paris", 34), ("FR", "mobile", None, 8), ("FR", "national", None, 4),
    ("ES", "local", "Madrid", 4), ("ES", "mobile", None, 2),
    ("GB", "local", "London", 4), ("GB", "mobile", None, 2),
)
STREETS = {"Paris": "18 rue de la Paix, 75002 Paris", "Madrid": "Calle de Alcalá 42, 28014 Madrid",
           "London": "10 Fleet Street, London EC4Y 1AA"}
IVR_LINES = (("Standard", "FR", "national"), ("Soporte España", "ES", "local"), ("UK Sales", "GB", "local"))


def _seed_numbers(op: Operation) -> None:
    for country, number_format, region, count in NUMBER_PLAN:
        for offer in numbers.search(op, country, number_format, region=region, limit=count):
            numbers.add_number(op, offer["number"], address=STREETS.get(offer["region"]))
    for ivr, country, number_format in IVR_LINES:
        numbers.assign(op, _free_number(op, country, number_format), ivr=ivr, label="Main line")
    numbers.assign(op, _free_number(op, "FR", "national"), conference="All hands", label="Weekly meeting")


def _free_number(op: Operation, country: str, number_format: str) -> str:
    return op.session.exec(select(PhoneNumber.e164).where(
        PhoneNumber.country == country, PhoneNumber.format == number_format,
        PhoneNumber.status == NumberStatus.AVAILABLE).order_by(PhoneNumber.e164)).first()


def _seed_users(op: Operation, rng: random.Random) -> None:
    people = _people(rng, 39)
    roles = [Role.ADMIN] * 2 + [Role.ACCOUNTANT] + [Role.TECHNICAL] * 2 + [Role.SUPERVISOR] * 4
    roles += [Role.NONE] * (len(people) - len(roles))
    group_names = [name for name, _ in GROUPS]
    now = utcnow()
    for index, ((first, last, email), role) in enumerate(zip(people, roles, strict=True)):
        main_group = group_names[index % 4]
        member_of = [main_group] + (["Night shift"] if index % 7 == 0 else [])
        line = _free_number(op, "FR", "local" if index % 6 else "mobile")
        users.add_user(op, email, first_name=first, last_name=last, groups=member_of, number=line,
                       license="advanced" if role != Role.NONE else "business")
        if role == Role.SUPERVISOR:
            scopes = [f"group:{main_group}", "ivr:Standard" if index % 2 else "ivr:UK Sales"]
            users.set_role(op, email, role, scopes=scopes, campaigns=index % 2 == 0)
        elif role != Role.NONE:
            users.set_role(op, email, role)
        user = op.session.exec(select(User).where(User.email == email)).one()
        if index % 5 != 4:  # most users have accepted their invitation
            user.status, user.activated_at = UserStatus.ACTIVE, now
            op.session.add(user)
        _vary_permissions(op, rng, email, role)
        if index % 9 == 3:
            users.snooze(op, email, reason=rng.choice(SNOOZE_REASONS))


def _vary_permissions(op: Operation, rng: random.Random, email: str, role: Role) -> None:
    pairs = [f"max_channels={rng.choice((1, 2, 2, 3))}",
             f"after_call_work_s={rng.choice((0, 15, 30, 60))}",
             f"recorded_percent={rng.choice((100, 100, 50, 25))}"]
    if role == Role.SUPERVISOR:
        pairs += ["statistics_tab=true", "power_dialer=true"]
    if rng.random() < 0.15:
        pairs.append("snooze=false")
    users.set_permissions(op, email, pairs)


def summary(settings: Settings) -> dict[str, Any]:
    """What the demo database holds, counted."""
    with operation(settings) as op:
        db = op.session
        roles = Counter(db.exec(select(User.role)).all())
        countries = Counter(db.exec(select(PhoneNumber.country)).all())

        def count(model: Any) -> int:
            return db.exec(select(func.count()).select_from(model)).one()

        return account_dict(op.account) | {
            "super_admin": op.actor.email,
            "users": count(User),
            "users_by_role": dict(sorted(roles.items())),
            "groups": count(UserGroup),
            "numbers_by_country": dict(sorted(countries.items())),
            "numbers_assigned": db.exec(select(func.count()).where(
                PhoneNumber.status == NumberStatus.ASSIGNED)).one(),
            "ivrs": count(Ivr),
            "tags": count(Tag),
            "contacts": count(Contact),
            "blacklist_entries": count(BlacklistEntry),
            "snoozed_users": db.exec(select(func.count()).where(User.snooze_reason.is_not(None))).one(),
            "calls_recorded": count(CallRecord),
            "sms_recorded": count(SmsMessage),
            "meetings_recorded": count(Meeting),
            "omni_messages_recorded": count(OmniMessage),
        }
