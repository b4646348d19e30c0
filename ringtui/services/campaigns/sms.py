"""SMS campaigns (K1): creation with the text's encoding, fragments and estimated cost.

The price of an SMS is the price of one fragment in the recipient's country
([sms.prices] of config.toml, [sms] price_default for the others) times the
fragments of the text. SMS campaigns are paid from the account's credits (B1):
when off-plan consumption is blocked, a campaign whose cost exceeds the credits
is refused, at creation and again at launch.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
from sqlalchemy import func
from sqlmodel import select

from ringtui.config import SmsSettings
from ringtui.errors import Conflict, Invalid, PlanRequired
from ringtui.models import Account, Campaign, CampaignRecipient
from ringtui.services.base import Operation, audit
from ringtui.services.campaigns.access import require_campaign_access
from ringtui.services.campaigns.recipients import RecipientList, load_list, store_recipients
from ringtui.services.phones import check_country, to_e164
from ringtui.services.sms_text import analyse
from ringtui.services.validation import check_name, read_text_file
from ringtui.vocab import CampaignKind, CampaignStatus

MESSAGE_MAX = 1600  # ten concatenated fragments of GSM-7 text, as carriers commonly cap it
_ALPHANUMERIC_SENDER = re.compile(r"^[A-Za-z0-9 .\-&]{1,11}$")
CENTS = Decimal("0.0001")


def check_sender(raw: str, country: str) -> str:
    """An alphanumeric sender of at most 11 characters, or a phone number (stored in E.164)."""
    text = raw.strip()
    digits = text.replace(" ", "").lstrip("+")
    if digits.isdigit():
        try:
            return to_e164(text, country)
        except Invalid as error:
            raise Invalid(f"sender {raw!r}: {error}") from None
    if _ALPHANUMERIC_SENDER.match(text) and any(ch.isalpha() for ch in text):
        return text
    raise Invalid(f"sender {raw!r}: give a phone number, or a name of 1 to 11 letters, digits, spaces, "
                  "'.', '-' or '&' (carriers allow no more)")


def check_message(message: str | None, message_file: Path | None) -> str:
    if (message is None) == (message_file is None):
        raise Invalid("give the text with --message TEXT or --message-file FILE, one of the two")
    text = message if message is not None else read_text_file(message_file, save_as="UTF-8 text")
    text = text.rstrip("\n") if message_file is not None else text
    if not text.strip():
        raise Invalid("the message is empty: give the text to send")
    if len(text) > MESSAGE_MAX:
        raise Invalid(f"the message has {len(text)} characters; an SMS campaign sends at most {MESSAGE_MAX}")
    return text


@lru_cache(maxsize=1024)
def _country_of_code(calling_code: int) -> str:
    return phonenumbers.region_code_for_country_code(calling_code)


def price_country(e164: str) -> str:
    """The country an SMS to `e164` is priced for: the main country of its calling code
    (+1 is priced as US, +44 as GB, Guernsey's +44 7911 included)."""
    for size in (1, 2, 3):
        code = int(e164[1:1 + size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return _country_of_code(code)
    return "ZZ"


def price_of(settings: SmsSettings, number: str, fragments: int) -> Decimal:
    return settings.price(price_country(number)) * fragments


def estimate_cost(settings: SmsSettings, numbers: Sequence[str], fragments: int) -> Decimal:
    """Fragments times the per-country price, summed over the recipients (countries counted once each)."""
    by_country = Counter(price_country(number) for number in numbers)
    return sum((settings.price(country) * fragments * count for country, count in by_country.items()),
               Decimal(0)).quantize(CENTS)


def require_credits(account: Account, cost: Decimal, what: str) -> None:
    """B1: with off-plan consumption blocked, the credits must cover what is to be spent."""
    if account.off_plan_blocked and cost > account.credits:
        raise PlanRequired(
            f"{what} costs {cost:.2f} but the account has {account.credits:.2f} credits and off-plan "
            "consumption is blocked: buy credits (`ringtui billing credits --buy AMOUNT`) or allow "
            "off-plan consumption (`ringtui billing credits --allow-off-plan`)")


def money(value: Decimal) -> float:
    return float(value.quantize(CENTS))


def create_sms_campaign(
    op: Operation, name: str, *, sender: str, country: str, message: str | None = None,
    message_file: Path | None = None, recipients: Path | None = None, to: str | None = None,
    phone_column: str | None = None, columns: Sequence[str] = (), skip_invalid: bool = False,
) -> dict[str, Any]:
    require_campaign_access(op, CampaignKind.SMS)
    name = check_name(name, "campaign name")
    region = check_country(country)
    sender = check_sender(sender, region)
    text = check_message(message, message_file)
    if op.session.exec(select(Campaign.id).where(Campaign.name == name)).first() is not None:
        raise Conflict(f"a campaign named {name!r} already exists (see `ringtui campaign list`)")
    checked = load_list(op, file=recipients, typed=to, country=region, skip_invalid=skip_invalid,
                        phone_column=phone_column, column_specs=columns)
    shape = analyse(text)
    cost = estimate_cost(op.settings.sms, [r.number for r in checked.recipients], shape.fragments)
    require_credits(op.account, cost, f"campaign {name!r} ({len(checked.recipients):,} SMS)")
    campaign = Campaign(name=name, kind=CampaignKind.SMS, country=region, created_by=op.actor.id,
                        sender=sender, message=text, encoding=shape.encoding,
                        fragments_per_message=shape.fragments, estimated_cost=cost)
    op.session.add(campaign)
    op.session.flush()
    store_recipients(op, campaign.id, checked)
    result = sms_summary(campaign, checked)
    audit(op, "campaign.create", name, after={k: v for k, v in result.items() if k != "invalid_lines"})
    return result


def sms_summary(campaign: Campaign, checked: RecipientList) -> dict[str, Any]:
    return {"name": campaign.name, "kind": CampaignKind.SMS, "status": CampaignStatus(campaign.status),
            "sender": campaign.sender, "country": campaign.country, **checked.summary(),
            "fragments_per_message": campaign.fragments_per_message, "encoding": campaign.encoding,
            "estimated_cost": money(campaign.estimated_cost), "source": checked.source}


def remaining_cost(op: Operation, campaign: Campaign) -> Decimal:
    """What the recipients not yet texted will cost, for the check at launch and resume."""
    numbers = op.session.exec(select(CampaignRecipient.number).where(
        CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.status == "pending")).all()
    return estimate_cost(op.settings.sms, numbers, campaign.fragments_per_message)


def pending_count(op: Operation, campaign: Campaign) -> int:
    return op.session.exec(select(func.count(CampaignRecipient.id)).where(
        CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.status == "pending")).one()
