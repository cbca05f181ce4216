"""The import report: skipped and failed files grouped by reason, what to do, and the CSV of every file."""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image

from rlm_desktop.library import Library
from rlm_desktop.library.import_report import reason_groups, write_report_csv

from .conftest import make_pdf


def test_reasons_are_grouped_with_examples_and_advice(library: Library, tmp_path: Path):
    folder = tmp_path / "room"
    folder.mkdir()
    for i in range(5):
        Image.new("RGB", (16, 16), "red").save(folder / f"icon{i}.png")
    for i in range(2):
        (folder / f"prog{i}").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(300))
    make_pdf(folder / "locked.pdf", ["Secret"], encrypt="pw")
    (folder / "notes.txt").write_text("Fine text.\n", encoding="utf-8")

    report = library.ingest([folder])
    groups = {(g.status, g.reason): g for g in reason_groups(report, examples=2)}
    assert list(groups)[0] == ("failed", "encrypted or password-protected")  # failures first
    assert "unlock" in groups["failed", "encrypted or password-protected"].advice
    icons = groups["skipped", "no text: image too small to hold any"]
    assert icons.count == 5 and len(icons.examples) == 2 and icons.examples[0].endswith("icon0.png")
    assert groups["skipped", "not a document (ELF executable)"].count == 2

    out = tmp_path / "report.csv"
    write_report_csv(report, out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == len(report.files) == 9
    by_name = {Path(r["path"]).name: r for r in rows}
    assert by_name["notes.txt"]["status"] == "stored" and by_name["notes.txt"]["reason"] == ""
    assert by_name["locked.pdf"]["what to do"].startswith("unlock it")
