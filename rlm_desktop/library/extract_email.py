"""E-mails (.eml with the standard library's ``email``, Outlook .msg through msg.py).

The document's text starts with From, To, Cc, Date, Subject (and the attachment names) so they
are searchable; then the plain-text body, or the HTML body turned into text when there is no
plain one. Attachments are handed back as :class:`Attachment` values; the ingest stores each
one as its own document, linked to the e-mail.
"""

from __future__ import annotations

import email
import email.policy
import mimetypes
from email.message import EmailMessage
from pathlib import Path
from typing import Callable

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library.mail_parts import MailParts
from rlm_desktop.library.pages import Attachment, Extracted, sections

HEADER_NAMES = ("From", "To", "Cc", "Date", "Subject")


def mail_extracted(parts: MailParts, name: str, html_to_text: Callable[[bytes], str]) -> Extracted:
    """Headers, body and attachment list as one document; attachments carried along."""
    lines = [f"{key}: {parts.headers[key]}" for key in HEADER_NAMES if parts.headers.get(key)]
    if parts.attachments:
        lines.append("Attachments: " + ", ".join(a.name for a in parts.attachments))
    for note in parts.notes:
        lines.append(f"Note: {note}")
    body = parts.plain
    if not (body and body.strip()) and parts.html:
        body = html_to_text(parts.html.encode("utf-8"))
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    text = "\n".join(lines) + "\n\n" + (body + "\n" if body else "")
    if not any(parts.headers.get(key) for key in HEADER_NAMES) and not body and not parts.attachments:
        raise ExtractionError(f"{name}: no e-mail headers, body or attachments found")
    return Extracted(format="email", unit="section", pages=sections(text),
                     attachments=unique_names(parts.attachments))


def unique_names(attachments: list[Attachment]) -> list[Attachment]:
    """Attachment names made unique within one e-mail ('report.pdf', 'report (2).pdf')."""
    seen: set[str] = set()
    out: list[Attachment] = []
    for attachment in attachments:
        name = attachment.name
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        n = 1
        while name.casefold() in seen:
            n += 1
            name = f"{stem} ({n}).{ext}" if dot else f"{stem} ({n})"
        seen.add(name.casefold())
        out.append(Attachment(name, attachment.data))
    return out


def _attachment_name(part: EmailMessage, index: int) -> str:
    name = part.get_filename()
    if name:
        name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        ext = mimetypes.guess_extension(part.get_content_type()) or ".bin"
        name = f"attachment-{index}{ext}"
    return name


def _eml_parts(message: EmailMessage) -> MailParts:
    headers = {key: str(message.get(key, "")).strip() for key in HEADER_NAMES}
    parts = MailParts(headers=headers)
    for kind in ("plain", "html"):
        body = message.get_body(preferencelist=(kind,))
        if body is None or body.is_attachment():
            continue
        try:
            content = body.get_content()
        except (LookupError, ValueError) as exc:  # unknown charset, damaged transfer encoding
            parts.notes.append(f"the {kind} body cannot be decoded ({exc})")
            continue
        setattr(parts, kind, content if isinstance(content, str) else content.decode("utf-8", "replace"))
    for index, part in enumerate(message.iter_attachments(), start=1):
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload(0) if part.is_multipart() else None
            data = inner.as_bytes() if inner is not None else (part.get_payload(decode=True) or b"")
            name = part.get_filename() or f"{(inner or {}).get('Subject', '') or f'message-{index}'}.eml"
            if not name.lower().endswith(".eml"):
                name += ".eml"
            parts.attachments.append(Attachment(name.replace("/", "_"), data))
            continue
        data = part.get_payload(decode=True)
        if data is None:
            parts.notes.append(f"attachment {index} is empty or cannot be decoded")
            continue
        parts.attachments.append(Attachment(_attachment_name(part, index), data))
    return parts


def extract_eml(path: Path, html_to_text: Callable[[bytes], str]) -> Extracted:
    """An RFC 822 / MIME message file."""
    data = path.read_bytes()
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not any(message.get(key) for key in (*HEADER_NAMES, "Message-ID")):
        raise ExtractionError(f"{path.name}: not an e-mail (no From, To, Date or Subject header)")
    return mail_extracted(_eml_parts(message), path.name, html_to_text)


def extract_msg(path: Path, html_to_text: Callable[[bytes], str]) -> Extracted:
    """An Outlook .msg file (an OLE compound file, read with olefile)."""
    from rlm_desktop.library.msg import read_msg

    return mail_extracted(read_msg(path), path.name, html_to_text)
