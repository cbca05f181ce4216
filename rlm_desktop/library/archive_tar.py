"""Tar archives (plain, gzip, bzip2 or xz) as containers of documents, with the ZIP archives' limits.

Nothing is ever extracted by tarfile itself: each regular member is streamed into a file of the
ingest's private temporary folder by :func:`copy_tar_member`. Links, devices and other special
members are refused, as are names that would escape the archive (see archive.check_members).
A compressed tar holds no per-member compressed sizes, so the ratio is judged over the archive:
each member is charged its share of the archive's bytes.
"""

from __future__ import annotations

import hashlib
import lzma
import tarfile
import zlib
from pathlib import Path
from typing import Callable, Iterator

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library.archive import ArchiveLimits, ArchiveMember, check_members

_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError)


def open_tar(path: Path, name: str) -> tarfile.TarFile:
    """Open a tar archive (compression found from the content) or raise ExtractionError naming it."""
    try:
        return tarfile.open(path, mode="r:*")
    except _READ_ERRORS as exc:
        raise ExtractionError(f"{name}: not a valid tar archive, or damaged ({exc})") from exc


def list_tar_members(archive: tarfile.TarFile, limits: ArchiveLimits, budget: list[int],
                     packed_bytes: int) -> list[ArchiveMember]:
    """The archive's files in order (folders and hidden files left out), each checked.

    ``packed_bytes`` is the archive file's size; ``budget`` as for archive.list_members.
    Raises ExtractionError when the archive's headers cannot be read.
    """
    try:
        infos = list(_infos(archive, limits.max_members + 1))
    except _READ_ERRORS as exc:
        raise ExtractionError(f"damaged tar archive ({exc})") from exc
    total = sum(info.size for info in infos if info.isreg()) or 1
    share = min(1.0, packed_bytes / total)
    return check_members((_entry(info, share) for info in infos), limits, budget)


def _infos(archive: tarfile.TarFile, most: int) -> Iterator[tarfile.TarInfo]:
    """Members other than folders, at most ``most`` (a tar bomb's millions of headers are not all read)."""
    count = 0
    for info in archive:
        if info.isdir():
            continue
        count += 1
        yield info
        if count >= most:
            return


def _entry(info: tarfile.TarInfo, share: float) -> ArchiveMember:
    problem = None
    if info.issym() or info.islnk():
        problem = f"link member refused (it points to {info.linkname!r})"
    elif not info.isreg():
        problem = "device or other special member refused (not a regular file)"
    return ArchiveMember(info.name, info.size, max(1, int(info.size * share)), None, float(info.mtime) or None,
                         problem, info, not_a_file=problem is not None)


def copy_tar_member(archive: tarfile.TarFile, member: ArchiveMember, target: Path,
                    cancelled: Callable[[], bool] = lambda: False) -> str:
    """Stream ``member`` into ``target`` (1 MiB at a time); returns its sha256. Raises ExtractionError."""
    digest = hashlib.sha256()
    written = 0
    try:
        source = archive.extractfile(member.info)
        if source is None:
            raise ExtractionError("not a regular file")
        with source, target.open("wb") as out:
            while chunk := source.read(1 << 20):
                if cancelled():
                    raise ExtractionError("cancelled")
                written += len(chunk)
                if written > member.size:
                    raise ExtractionError("damaged member (more data than its declared size)")
                digest.update(chunk)
                out.write(chunk)
    except ExtractionError:
        raise
    except _READ_ERRORS as exc:
        raise ExtractionError(f"damaged or truncated member ({exc})") from exc
    if written < member.size:
        raise ExtractionError("truncated member (the archive ends inside it)")
    return digest.hexdigest()


def peek_tar_member(archive: tarfile.TarFile, member: ArchiveMember, size: int = 8192) -> bytes:
    """The first ``size`` bytes of a member (to judge its content before copying it); b'' if unreadable."""
    try:
        source = archive.extractfile(member.info)
        return source.read(size) if source is not None else b""
    except _READ_ERRORS:
        return b""
