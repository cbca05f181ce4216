"""A minimal writer of OLE compound files ([MS-CFB] version 3), to build real Outlook .msg files in tests.

olefile only reads (and overwrites same-size streams); nothing permissive on PyPI writes .msg.
The tree is a dict: str -> bytes (a stream) or str -> dict (a storage).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Union

Tree = dict[str, Union[bytes, "Tree"]]

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _pad(data: bytes, size: int) -> bytes:
    return data + b"\0" * (-len(data) % size)


def write_cfb(path: Path, tree: Tree) -> Path:
    entries: list[dict] = [{"name": "Root Entry", "type": 5, "kids": [], "data": b""}]

    def add(storage: Tree, parent: int) -> None:
        for name, value in storage.items():
            index = len(entries)
            entries[parent]["kids"].append(index)
            if isinstance(value, dict):
                entries.append({"name": name, "type": 1, "kids": [], "data": b""})
                add(value, index)
            else:
                entries.append({"name": name, "type": 2, "kids": [], "data": value})

    add(tree, 0)
    fat: list[int] = []
    sectors: list[bytes] = []

    def allocate(data: bytes) -> int:
        chunks = [data[i:i + SECTOR] for i in range(0, len(data), SECTOR)]
        first = len(sectors)
        for i, chunk in enumerate(chunks):
            sectors.append(_pad(chunk, SECTOR))
            fat.append(first + i + 1 if i < len(chunks) - 1 else END)
        return first

    mini_stream = b""
    mini_fat: list[int] = []
    for entry in entries[1:]:
        data = entry["data"]
        if entry["type"] != 2 or not data:
            entry["start"] = END if entry["type"] == 2 else 0
            continue
        if len(data) < CUTOFF:
            first = len(mini_stream) // MINI
            count = -(-len(data) // MINI)
            mini_fat.extend(first + i + 1 if i < count - 1 else END for i in range(count))
            mini_stream += _pad(data, MINI)
            entry["start"] = first
        else:
            entry["start"] = allocate(data)
    entries[0]["start"] = allocate(mini_stream) if mini_stream else END
    entries[0]["size"] = len(mini_stream)
    mini_fat_start = allocate(b"".join(struct.pack("<I", v) for v in mini_fat)) if mini_fat else END
    mini_fat_sectors = -(-len(mini_fat) * 4 // SECTOR)

    directory = b""
    for entry in entries:
        kids = entry["kids"]
        name = entry["name"].encode("utf-16-le") + b"\0\0"
        # siblings as a chain of right links: a valid (if unbalanced) tree for readers
        entry.setdefault("right", NOSTREAM)
        for a, b in zip(kids, kids[1:]):
            entries[a]["right"] = b
        directory += struct.pack("<64sHBBIII16sIQQIQ", name, len(name), entry["type"], 1, NOSTREAM,
                                 entry["right"], kids[0] if kids else NOSTREAM, b"\0" * 16, 0, 0, 0,
                                 entry.get("start", 0), entry.get("size", len(entry["data"])))
    directory = directory + (struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM,
                                         b"\0" * 16, 0, 0, 0, 0, 0) * (-(len(entries)) % 4))
    directory_start = allocate(directory)

    fat_count = 1
    while fat_count * SECTOR // 4 < len(sectors) + fat_count:
        fat_count += 1
    fat_start = len(sectors)
    fat.extend([FATSECT] * fat_count)
    table = b"".join(struct.pack("<I", v) for v in fat)
    table += struct.pack("<I", FREE) * (fat_count * SECTOR // 4 - len(fat))
    sectors.extend(table[i:i + SECTOR] for i in range(0, len(table), SECTOR))
    assert fat_count <= 109, "file too large for this minimal writer"

    difat = [fat_start + i for i in range(fat_count)] + [FREE] * (109 - fat_count)
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", bytes.fromhex("D0CF11E0A1B11AE1"), b"\0" * 16, 0x3E, 3,
                         0xFFFE, 9, 6, b"\0" * 6, 0, fat_count, directory_start, 0, CUTOFF, mini_fat_start,
                         mini_fat_sectors, END, 0)
    header += b"".join(struct.pack("<I", v) for v in difat)
    path.write_bytes(header + b"".join(sectors))
    return path


def msg_tree(*, subject: str, sender: str, sender_email: str, to: str, cc: str = "", body: str = "",
             html: str | None = None, submit_filetime: int | None = None,
             attachments: list[tuple[str, bytes]] = ()) -> Tree:  # type: ignore[assignment]
    """The streams of an Outlook message with Unicode string properties ([MS-OXMSG])."""

    def text(prop: int, value: str) -> tuple[str, bytes]:
        return f"__substg1.0_{prop:04X}001F", value.encode("utf-16-le")

    tree: Tree = dict([text(0x0037, subject), text(0x0C1A, sender), text(0x5D01, sender_email),
                       text(0x0E04, to), text(0x0E03, cc), text(0x1000, body)])
    if html is not None:
        tree["__substg1.0_10130102"] = html.encode("utf-8")
    properties = b"\0" * 32
    if submit_filetime is not None:
        properties += struct.pack("<IIQ", (0x0039 << 16) | 0x0040, 6, submit_filetime)
    tree["__properties_version1.0"] = properties
    for index, (name, data) in enumerate(attachments):
        tree[f"__attach_version1.0_#{index:08X}"] = {
            "__substg1.0_3707001F": name.encode("utf-16-le"),
            "__substg1.0_37010102": data,
            "__properties_version1.0": b"\0" * 8 + struct.pack("<IIQ", (0x3705 << 16) | 0x0003, 6, 1),
        }
    tree["__nameid_version1.0"] = {}
    return tree
