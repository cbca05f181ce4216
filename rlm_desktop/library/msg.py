"""Outlook .msg files: an OLE compound file of MAPI properties, read with olefile (BSD).

Only what the library needs: sender, recipients, date, subject, plain and HTML body, and the
attachments' names and bytes ([MS-OXMSG]). extract-msg would do more but is GPL-3.0.
"""

from __future__ import annotations

import email.utils
import struct
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library.mail_parts import MailParts
from rlm_desktop.library.pages import Attachment

PT_LONG, PT_SYSTIME, PT_STRING8, PT_UNICODE, PT_BINARY = 0x0003, 0x0040, 0x001E, 0x001F, 0x0102
SUBJECT, SENDER_NAME, SENDER_EMAIL, SENDER_SMTP = 0x0037, 0x0C1A, 0x0C1F, 0x5D01
DISPLAY_TO, DISPLAY_CC, BODY, HTML, HEADERS = 0x0E04, 0x0E03, 0x1000, 0x1013, 0x007D
SUBMIT_TIME, DELIVERY_TIME = 0x0039, 0x0E06
ATTACH_DATA, ATTACH_LONG_NAME, ATTACH_NAME, DISPLAY_NAME, ATTACH_METHOD = 0x3701, 0x3707, 0x3704, 0x3001, 0x3705
ATTACH_EMBEDDED_MSG = 5
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=timezone.utc)


class _Properties:
    """MAPI properties of one storage (the message, or an attachment) of an open OLE file."""

    def __init__(self, ole: Any, storage: list[str], header_bytes: int) -> None:
        self.ole = ole
        self.storage = storage
        self.fixed: dict[int, tuple[int, bytes]] = {}
        stream = storage + ["__properties_version1.0"]
        if ole.exists("/".join(stream)):
            data = ole.openstream(stream).read()
            for offset in range(header_bytes, len(data) - 15, 16):
                tag, _flags = struct.unpack_from("<II", data, offset)
                self.fixed[tag >> 16] = (tag & 0xFFFF, data[offset + 8:offset + 16])

    def _stream(self, prop: int, kind: int) -> bytes | None:
        path = self.storage + [f"__substg1.0_{prop:04X}{kind:04X}"]
        if not self.ole.exists("/".join(path)):
            return None
        return self.ole.openstream(path).read()

    def text(self, prop: int) -> str | None:
        data = self._stream(prop, PT_UNICODE)
        if data is not None:
            return data.decode("utf-16-le", "replace").rstrip("\x00")
        data = self._stream(prop, PT_STRING8)
        if data is not None:
            return data.decode("cp1252", "replace").rstrip("\x00")
        return None

    def binary(self, prop: int) -> bytes | None:
        return self._stream(prop, PT_BINARY)

    def long(self, prop: int) -> int | None:
        kind, value = self.fixed.get(prop, (None, b""))
        return struct.unpack_from("<i", value)[0] if kind == PT_LONG else None

    def time(self, prop: int) -> datetime | None:
        kind, value = self.fixed.get(prop, (None, b""))
        if kind != PT_SYSTIME:
            return None
        ticks = struct.unpack_from("<Q", value)[0]
        try:
            return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)
        except OverflowError:
            return None


def _header_date(headers: str | None) -> str | None:
    for line in (headers or "").splitlines():
        if line.lower().startswith("date:"):
            return line.split(":", 1)[1].strip()
    return None


def read_msg(path: Path) -> MailParts:
    """Headers, bodies and attachments of an Outlook message; raises ExtractionError with the cause."""
    import olefile

    if not olefile.isOleFile(str(path)):
        raise ExtractionError(f"{path.name}: not an Outlook .msg file (not an OLE compound file)")
    try:
        ole = olefile.OleFileIO(str(path))
    except Exception as exc:  # olefile raises OSError and others on damaged files
        raise ExtractionError(f"{path.name}: damaged Outlook .msg file ({exc})") from exc
    try:
        return _read(ole, path.name)
    except ExtractionError:
        raise
    except Exception as exc:
        raise ExtractionError(f"{path.name}: damaged Outlook .msg file ({type(exc).__name__}: {exc})") from exc
    finally:
        ole.close()


def _read(ole: Any, name: str) -> MailParts:
    if not ole.exists("__properties_version1.0") and not ole.exists(f"__substg1.0_{SUBJECT:04X}{PT_UNICODE:04X}"):
        raise ExtractionError(f"{name}: an OLE file, but not an Outlook message (no message properties)")
    message = _Properties(ole, [], 32)
    sender = message.text(SENDER_NAME)
    address = message.text(SENDER_SMTP) or message.text(SENDER_EMAIL)
    if address and "@" not in address:
        address = None  # an Exchange X.500 address says nothing to a reader
    when = message.time(SUBMIT_TIME) or message.time(DELIVERY_TIME)
    headers = {
        "From": email.utils.formataddr((sender or "", address)) if address else (sender or ""),
        "To": message.text(DISPLAY_TO) or "",
        "Cc": message.text(DISPLAY_CC) or "",
        "Date": email.utils.format_datetime(when) if when else (_header_date(message.text(HEADERS)) or ""),
        "Subject": message.text(SUBJECT) or "",
    }
    parts = MailParts(headers=headers, plain=message.text(BODY))
    html = message.binary(HTML)
    if html is not None:
        parts.html = html.decode("utf-8", "replace")
    else:
        parts.html = message.text(HTML)
    storages = sorted({entry[0] for entry in ole.listdir(streams=True, storages=True)
                       if entry and entry[0].startswith("__attach_version1.0_#")})
    for index, storage in enumerate(storages, start=1):
        attachment = _Properties(ole, [storage], 8)
        label = attachment.text(ATTACH_LONG_NAME) or attachment.text(ATTACH_NAME) or attachment.text(DISPLAY_NAME)
        if attachment.long(ATTACH_METHOD) == ATTACH_EMBEDDED_MSG:
            parts.notes.append(f"embedded Outlook message {label or index} is not extracted")
            continue
        data = attachment.binary(ATTACH_DATA)
        if data is None:
            parts.notes.append(f"attachment {label or index} has no data (a link or an OLE object)")
            continue
        parts.attachments.append(Attachment((label or f"attachment-{index}.bin").replace("/", "_"), data))
    return parts
