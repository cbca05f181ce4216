"""What both e-mail readers (.eml in extract_email.py, Outlook .msg in msg.py) come down to."""

from __future__ import annotations

from dataclasses import dataclass, field

from rlm_desktop.library.pages import Attachment


@dataclass
class MailParts:
    """Headers, the plain and HTML bodies and the attachments of one e-mail, whatever its format."""

    headers: dict[str, str]
    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # e.g. parts that could not be decoded
