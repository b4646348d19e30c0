"""E-mail through the [smtp] server of config.toml (stdlib smtplib)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from ringtui.config import SmtpSettings
from ringtui.errors import RingtuiError


class MailFailed(RingtuiError):
    """The SMTP server could not be reached or refused the message."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mime: str  # "image/png"


def sender(smtp: SmtpSettings) -> str:
    return smtp.sender or f"ringtui@{smtp.host}"


def send(smtp: SmtpSettings, to: str, subject: str, body: str, attachments: list[Attachment]) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender(smtp), to, subject
    message.set_content(body)
    for attachment in attachments:
        maintype, subtype = attachment.mime.split("/", 1)
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype,
                               filename=attachment.filename)
    where = f"{smtp.host}:{smtp.port}"
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as server:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context())
            if smtp.username:
                server.login(smtp.username, smtp.password)
            server.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        refusals = "; ".join(f"{who}: {code} {text.decode(errors='replace')}"
                             for who, (code, text) in error.recipients.items())
        raise MailFailed(f"SMTP server {where} refused the recipient ({refusals})") from None
    except smtplib.SMTPResponseException as error:
        reply = error.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
        raise MailFailed(f"SMTP server {where} answered {error.smtp_code} {text}") from None
    except (smtplib.SMTPException, OSError) as error:
        raise MailFailed(f"cannot send through SMTP server {where}: {error}") from None
