"""ZIP archives as containers of documents: member listing with limits, and streaming copies.

The checks of :func:`check_members` are shared with tar archives (archive_tar.py).

Nothing here inflates a member into memory: :func:`copy_member` streams one member into a
file of a private temporary folder, hashing it on the way. Every refusal is per member and
says why (name escaping the archive, name collision, encryption, size, ratio, count).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from rlm_desktop.errors import ExtractionError
from rlm_desktop.sizes import document_size


@dataclass(frozen=True)
class ArchiveLimits:
    """What a data-room archive may hold before members are refused."""

    max_total_bytes: int = 20 * 1024**3          # all members together, uncompressed (nested archives included)
    max_ratio: float = 200.0                     # uncompressed / compressed of one member, above ratio_floor_bytes
    ratio_floor_bytes: int = 10 * 1024 * 1024
    max_members: int = 100_000                   # per archive
    max_depth: int = 3                           # archives (and e-mails) inside archives


@dataclass(frozen=True)
class ArchiveMember:
    """One file of an archive, with the reason it is refused (None when it may be read)."""

    name: str                   # normalised path inside the archive, '/'-separated
    size: int
    packed: int
    crc: int
    mtime: float | None
    problem: str | None
    info: Any                   # zipfile.ZipInfo, or tarfile.TarInfo for a tar archive
    not_a_file: bool = False    # a link or device: skipped (never followed), not failed


_SKIPPED_PARTS = ("__MACOSX",)


def is_hidden(name: str) -> bool:
    return any(part.startswith(".") or part in _SKIPPED_PARTS for part in name.split("/"))


def normalise_member_name(raw: str) -> tuple[str, str | None]:
    """('/'-joined clean path, problem or None): refuses names that would escape the archive."""
    name = raw.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or name.startswith("//"):
        return name, "absolute path name (would be written outside the archive's folder)"
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        return name, "path name with '..' (would be written outside the archive's folder)"
    if any(ord(ch) < 32 for ch in name):
        return name, "name with control characters"
    return "/".join(parts), None


def _mtime(info: zipfile.ZipInfo) -> float | None:
    try:
        return datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError):
        return None


def list_members(archive: zipfile.ZipFile, limits: ArchiveLimits, budget: list[int]) -> list[ArchiveMember]:
    """The archive's files in order (folders, hidden files and __MACOSX left out), each checked.

    ``budget`` is a one-element list holding the uncompressed bytes still allowed for the whole
    ingest of the top-level archive (shared with nested archives); it is decreased here.
    """
    entries = (ArchiveMember(info.filename, info.file_size, info.compress_size, info.CRC, _mtime(info),
                             "encrypted member (a password is needed to read it)" if info.flag_bits & 0x1 else None,
                             info)
               for info in archive.infolist() if not info.is_dir())
    return check_members(entries, limits, budget)


def check_members(entries: Iterable[ArchiveMember], limits: ArchiveLimits, budget: list[int]) -> list[ArchiveMember]:
    """Members named as stored (``name`` raw, ``problem`` what the format itself refuses), checked in order:
    names cleaned and kept inside the archive, collisions, member count, compression ratio and total size."""
    members: list[ArchiveMember] = []
    seen: dict[str, str] = {}
    folders: set[str] = set()
    files: set[str] = set()
    count = 0
    for entry in entries:
        name, problem = normalise_member_name(entry.name)
        if problem is None and (not name or is_hidden(name)):
            continue
        count += 1
        key = unicodedata.normalize("NFC", name).casefold()
        if problem is None and count > limits.max_members:
            problem = f"the archive holds more than {limits.max_members:,} files; the rest are refused (zip bomb?)"
        if problem is None and key in seen:
            problem = f"name collides with another member ({seen[key]})"
        if problem is None and (key in folders or any(p in files for p in prefixes(key))):
            problem = "name collides with a folder of the same name in the archive"
        problem = problem or entry.problem
        if problem is None and entry.size > limits.ratio_floor_bytes \
                and entry.size / max(1, entry.packed) > limits.max_ratio:
            problem = (f"refused, it would unpack to {document_size(entry.size)} from "
                       f"{document_size(entry.packed)} (compression ratio "
                       f"{entry.size / max(1, entry.packed):.0f}:1, zip bomb?)")
        if problem is None and entry.size > budget[0]:
            problem = (f"refused, the archive would unpack to more than "
                       f"{document_size(limits.max_total_bytes)} in all (zip bomb?)")
        if problem is None:
            budget[0] -= entry.size
            seen[key] = name
            files.add(key)
            folders.update(prefixes(key))
        members.append(replace(entry, name=name, problem=problem,
                               not_a_file=entry.not_a_file and problem == entry.problem))
    return members


def prefixes(key: str) -> list[str]:
    parts = key.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def safe_file_name(name: str, fallback: str = "member") -> str:
    """A file name usable in our temporary folder: the last path part, no separators, not too long."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ord(ch) >= 32 and ch not in '<>:"|?*').strip(" .")
    if not base:
        return fallback
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = (stem[:100] + dot + ext[:15]) if dot and len(ext) <= 15 else base[:120]
    return base


def copy_member(archive: zipfile.ZipFile, member: ArchiveMember, target: Path,
                cancelled: Callable[[], bool] = lambda: False) -> str:
    """Stream ``member`` into ``target`` (1 MiB at a time); returns its sha256. Raises ExtractionError."""
    digest = hashlib.sha256()
    written = 0
    try:
        with archive.open(member.info) as source, target.open("wb") as out:
            while chunk := source.read(1 << 20):
                if cancelled():
                    raise ExtractionError("cancelled")
                written += len(chunk)
                if written > member.size:  # zipfile stops at the declared size; never trust it blindly
                    raise ExtractionError("damaged member (more data than its declared size)")
                digest.update(chunk)
                out.write(chunk)
    except zipfile.BadZipFile as exc:
        raise ExtractionError(f"damaged member ({exc})") from exc
    except zlib.error as exc:
        raise ExtractionError(f"damaged member (cannot be decompressed: {exc})") from exc
    except NotImplementedError as exc:
        raise ExtractionError(f"unsupported compression method ({exc})") from exc
    except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required"
        raise ExtractionError(f"cannot be read ({exc})") from exc
    except EOFError as exc:
        raise ExtractionError("truncated member (the archive ends inside it)") from exc
    return digest.hexdigest()


def open_archive(path: Path, name: str) -> zipfile.ZipFile:
    """Open a ZIP archive or raise ExtractionError naming it and the cause."""
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ExtractionError(f"{name}: not a valid ZIP archive, or damaged ({exc})") from exc
    except OSError as exc:
        raise ExtractionError(f"{name}: cannot be read ({exc.strerror or exc})") from exc


def peek_member(archive: zipfile.ZipFile, member: ArchiveMember, size: int = 8192) -> bytes:
    """The first ``size`` bytes of a member (to judge its content before copying it); b'' if unreadable."""
    try:
        with archive.open(member.info) as source:
            return source.read(size)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError):
        return b""
