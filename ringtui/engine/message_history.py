"""Past SMS, meetings and omnichannel messages for the demo (L5, L6, S7-S9), beside the simulated calls.

Deterministic with the seed, consistent with the account (the agents' direct lines and the IVRs'
numbers send and receive the SMS, customers come from the contacts, agents host the meetings,
omnichannel conversations land in the groups), and written in a few Core executemany statements.
Omnichannel messages are written only when the omnichannel add-on is active.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import Engine, insert, select

from ringtui.models import (
    Account,
    ContactNumber,
    GroupMember,
    Meeting,
    MeetingTag,
    OmniMessage,
    PhoneNumber,
    SmsMessage,
    Tag,
    User,
    UserGroup,
)
from ringtui.services.sms_text import analyse
from ringtui.vocab import AssigneeKind, MeetTool, OmniPlatform, SmsStatus, UserStatus

# Outbound price per fragment, by the customer's country (inbound SMS are free).
SMS_PRICES = {"FR": Decimal("0.045"), "ES": Decimal("0.050"), "GB": Decimal("0.040"),
              "DE": Decimal("0.070"), "BE": Decimal("0.060")}
OTHER_PRICE = Decimal("0.080")
CAMPAIGN_SENDER = "ATLANTIC"
INBOUND_TEXTS = (
    "Bonjour, je n'ai pas reçu ma commande", "Pouvez-vous me rappeler ?", "Merci beaucoup 🙏",
    "¿Podéis llamarme mañana?", "Hi, is my order on its way?", "Quel est le délai de livraison ?",
    "J'ai une question sur ma facture", "OK pour demain 10h", "Est-ce que le magasin est ouvert ?",
    "Hello, can I change my appointment?", "Necesito una factura, por favor", "👍",
)
OUTBOUND_TEXTS = (
    "Bonjour, votre commande part aujourd'hui. Bonne journée !",
    "Nous vous rappelons dans l'heure. L'équipe Atlantic Contact",
    "Hola, le llamamos mañana a las 10h. Un saludo.",
    "Hi, your appointment is confirmed for Thursday 2pm. Reply STOP to opt out.",
    "Votre facture est disponible dans votre espace client. Pour toute question, répondez à ce message "
    "ou appelez le service client du lundi au vendredi de 9h à 18h. Merci de votre confiance !",
    "C'est noté 😊", "Merci, bonne journée", "Votre colis est en cours de livraison (suivi: 8R12345678)",
)
CAMPAIGN_TEXTS = (
    "Atlantic Contact: -20% sur votre abonnement jusqu'à dimanche ! Code PROMO20. STOP au 36111",
    "Rappel: votre rendez-vous a lieu demain. Pour annuler répondez ANNULER. STOP au 36111",
)
MEETING_TITLES = ("Daily stand-up", "Customer onboarding", "Weekly sales review", "Support escalation",
                  "Training: new IVR", "1:1", "Quarterly planning", "Demo for a prospect")
# Tags a meeting of this title gets, those of them the account has (S8 filters meetings by tag).
MEETING_TAGS = {"Customer onboarding": ("VIP",), "Weekly sales review": ("Sale",),
                "Demo for a prospect": ("Sale",), "Support escalation": ("Complaint", "Technical issue"),
                "Training: new IVR": ("Technical issue",)}
MEET_WEIGHTS = {MeetTool.RINGOVER: 40, MeetTool.TEAMS: 25, MeetTool.ZOOM: 20, MeetTool.GOOGLE_MEET: 15}
OMNI_WEIGHTS = {OmniPlatform.WHATSAPP: 45, OmniPlatform.MESSENGER: 20, OmniPlatform.INSTAGRAM: 15,
                OmniPlatform.GOOGLE_REVIEWS: 10, OmniPlatform.OUTLOOK: 10}
OMNI_TEXTS = ("Bonjour, une question sur mon abonnement", "Merci pour votre aide !",
              "Votre demande est bien prise en compte", "⭐⭐⭐⭐ Très bon accueil",
              "Any update on my ticket?", "Nous revenons vers vous rapidement")


@dataclass(frozen=True)
class MessageReport:
    sms: int
    meetings: int
    omni_messages: int


@dataclass(frozen=True)
class _Account:
    zone: ZoneInfo
    omnichannel: bool
    agents: list[tuple[int, str | None]]           # (user id, direct line)
    ivr_lines: list[tuple[int, str]]               # (IVR id, number)
    groups: list[tuple[int, list[int]]]            # (group id, member ids)
    customers: list[str]
    tags: dict[str, int]                           # tag name -> id


def _load(database: Engine) -> _Account:
    with database.connect() as db:
        account = db.execute(select(Account.timezone, Account.addons)).one()
        active = db.execute(select(User.id).where(User.status == UserStatus.ACTIVE).order_by(User.id))
        lines = dict(db.execute(select(PhoneNumber.user_id, PhoneNumber.e164).where(
            PhoneNumber.assigned_kind == AssigneeKind.USER).order_by(PhoneNumber.e164)).all())
        ivr_lines = [tuple(row) for row in db.execute(select(PhoneNumber.ivr_id, PhoneNumber.e164).where(
            PhoneNumber.assigned_kind == AssigneeKind.IVR).order_by(PhoneNumber.e164))]
        members: dict[int, list[int]] = {}
        memberships = select(UserGroup.id, GroupMember.user_id).join(
            GroupMember, GroupMember.group_id == UserGroup.id).order_by(UserGroup.id, GroupMember.user_id)
        for group_id, user_id in db.execute(memberships):
            members.setdefault(group_id, []).append(user_id)
        customers = list(db.execute(select(ContactNumber.e164).order_by(ContactNumber.id)).scalars())
        tags = dict(db.execute(select(Tag.name, Tag.id)).all())
    return _Account(zone=ZoneInfo(account.timezone or "UTC"),
                    omnichannel="omnichannel" in (account.addons or []),
                    agents=[(user_id, lines.get(user_id)) for user_id in active.scalars()],
                    ivr_lines=ivr_lines, groups=sorted(members.items()),
                    customers=customers or ["+33612345678", "+34612345678", "+447700900123"], tags=tags)


def _country(number: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None


def _at(day: date, rng: random.Random, zone: ZoneInfo, first: int = 8, last: int = 19) -> datetime:
    """A moment of the local working day, in UTC."""
    seconds = rng.randrange(first * 3600, last * 3600)
    local = datetime.combine(day, time(0), tzinfo=zone) + timedelta(seconds=seconds)
    return local.astimezone(UTC)


def _sms(when: datetime, direction: str, customer: str, ours: str, text: str, *, user: int | None,
         ivr: int | None, campaign: int | None = None) -> dict[str, Any]:
    shape = analyse(text)
    price = Decimal(0)
    if direction == "out":
        price = SMS_PRICES.get(_country(customer) or "", OTHER_PRICE) * shape.fragments
    return {"direction": direction, "customer_number": customer, "account_number": ours, "user_id": user,
            "ivr_id": ivr, "campaign_id": campaign, "sent_at": when, "text": text, "unicode": shape.unicode,
            "fragments": shape.fragments, "price": price,
            "status": SmsStatus.RECEIVED if direction == "in" else SmsStatus.DELIVERED,
            "status_at": when + timedelta(seconds=3), "carrier_id": None}


def _sms_conversation(rng: random.Random, account: _Account, day: date) -> list[dict[str, Any]]:
    """An exchange with one customer on an agent's line or an IVR's number; now and then a message
    from an unknown number that nobody answers."""
    unanswered = rng.random() < 0.08
    customer = f"+336{rng.randrange(10**8):08d}" if unanswered else rng.choice(account.customers)
    with_line = [(user, line) for user, line in account.agents if line]
    if account.ivr_lines and (rng.random() < 0.3 or not with_line):
        ivr, ours = rng.choice(account.ivr_lines)
        user = rng.choice(account.agents)[0] if account.agents else None
    elif with_line:
        (user, ours), ivr = rng.choice(with_line), None
    else:
        return []
    when = _at(day, rng, account.zone)
    if unanswered:
        return [_sms(when, "in", customer, ours, rng.choice(INBOUND_TEXTS), user=user, ivr=ivr)]
    rows, inbound = [], rng.random() < 0.7
    for _ in range(rng.choice((1, 1, 2, 3))):
        if inbound:
            rows.append(_sms(when, "in", customer, ours, rng.choice(INBOUND_TEXTS), user=user, ivr=ivr))
            when += timedelta(seconds=rng.randint(30, 3 * 3600))
        rows.append(_sms(when, "out", customer, ours, rng.choice(OUTBOUND_TEXTS), user=user, ivr=ivr))
        when += timedelta(seconds=rng.randint(300, 6 * 3600))
        inbound = True
    return rows


def _campaign(rng: random.Random, account: _Account, day: date, campaign: int) -> list[dict[str, Any]]:
    text = CAMPAIGN_TEXTS[campaign % len(CAMPAIGN_TEXTS)]
    start = datetime.combine(day, time(10), tzinfo=account.zone).astimezone(UTC)
    recipients = rng.sample(account.customers, min(40, len(account.customers)))
    return [_sms(start + timedelta(seconds=index), "out", number, CAMPAIGN_SENDER, text, user=None, ivr=None,
                 campaign=campaign) for index, number in enumerate(recipients)]


def _meeting(rng: random.Random, account: _Account, day: date) -> dict[str, Any]:
    started = _at(day, rng, account.zone, 9, 17)
    return {"tool": rng.choices(list(MEET_WEIGHTS), weights=list(MEET_WEIGHTS.values()))[0],
            "user_id": rng.choice(account.agents)[0], "title": rng.choice(MEETING_TITLES),
            "started_at": started,
            "ended_at": started + timedelta(minutes=rng.choice((15, 20, 30, 30, 45, 60, 90))),
            "participants": rng.randint(2, 8)}


def _omni_conversation(rng: random.Random, account: _Account, day: date,
                       number: int) -> list[dict[str, Any]]:
    platform = rng.choices(list(OMNI_WEIGHTS), weights=list(OMNI_WEIGHTS.values()))[0]
    group, members = rng.choice(account.groups) if account.groups else (None, [])
    user = rng.choice(members or [agent for agent, _ in account.agents])
    conversation = f"{platform.value}-{day:%Y%m%d}-{number}"
    customer = (rng.choice(account.customers) if platform == OmniPlatform.WHATSAPP
                else f"customer-{rng.randint(1, 500)}")
    when, rows = _at(day, rng, account.zone), []

    def message(direction: str) -> dict[str, Any]:
        return {"platform": platform, "direction": direction, "conversation": conversation,
                "customer": customer, "user_id": user, "group_id": group, "sent_at": when,
                "text": rng.choice(OMNI_TEXTS)}

    for turn in range(rng.choice((1, 2, 2, 3))):
        rows.append(message("in"))
        if turn == 0 and rng.random() < 0.1:
            break
        when += timedelta(seconds=rng.randint(60, 2 * 3600))
        rows.append(message("out"))
        when += timedelta(seconds=rng.randint(600, 4 * 3600))
    return rows


def seed_message_history(database: Engine, *, first_day: date, last_day: date, seed: int,
                         end: datetime) -> MessageReport:
    """SMS, meetings and (with the add-on) omnichannel messages for every local day in
    [first_day, last_day], none after `end`."""
    account = _load(database)
    if not account.agents:
        return MessageReport(0, 0, 0)
    rng = random.Random(f"messages-{seed}")
    sms: list[dict[str, Any]] = []
    meetings: list[dict[str, Any]] = []
    omni: list[dict[str, Any]] = []
    day, campaign = first_day, 0
    while day <= last_day:
        weekday = day.weekday() < 5
        for _ in range(rng.randint(25, 45) if weekday else rng.randint(3, 10)):
            sms += _sms_conversation(rng, account, day)
        if day.weekday() == 1:  # Tuesday: the weekly campaign
            campaign += 1
            sms += _campaign(rng, account, day, campaign)
        meetings += [_meeting(rng, account, day) for _ in range(rng.randint(4, 9) if weekday else 0)]
        if account.omnichannel:
            for number in range(rng.randint(10, 20) if weekday else rng.randint(2, 6)):
                omni += _omni_conversation(rng, account, day, number)
        day += timedelta(days=1)
    sms = [row for row in sms if row["sent_at"] < end]
    meetings = [row for row in meetings if row["ended_at"] < end]
    omni = [row for row in omni if row["sent_at"] < end]
    with database.begin() as db:
        for model, rows in ((SmsMessage, sms), (OmniMessage, omni)):
            if rows:
                db.execute(insert(model.__table__), rows)
        if meetings:
            table = Meeting.__table__
            ids = db.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                             meetings).scalars()
            tagged = [{"meeting_id": meeting_id, "tag_id": account.tags[name]}
                      for meeting_id, row in zip(ids, meetings, strict=True)
                      for name in MEETING_TAGS.get(row["title"], ()) if name in account.tags]
            if tagged:
                db.execute(insert(MeetingTag.__table__), tagged)
    return MessageReport(len(sms), len(meetings), len(omni))
