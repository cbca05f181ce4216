"""Real files of every supported format, good and broken, built in the test's temp dir."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Callable

import pytest


PDF_PAGES = [
    "Master Services Agreement between Acme Corp and Beta LLC.",
    "Section 4. Payment terms: invoices are due within thirty days.",
    "Section 9. Indemnification: the supplier indemnifies the customer against third party claims.",
]


def make_pdf(path: Path, pages: list[str], encrypt: str | None = None) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), encrypt=encrypt)
    for text in pages:
        y = 780
        for line in text.split("\n"):
            c.drawString(72, y, line)
            y -= 16
        c.showPage()
    c.save()
    return path


def make_scanned_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF whose only content is an image of text (no text layer)."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("RGB", (1240, 160 + 120 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    for i, line in enumerate(lines):
        draw.text((60, 80 + 120 * i), line, fill="black", font=font)
    c = canvas.Canvas(str(path))
    width = 540
    c.drawImage(ImageReader(image), 30, 400, width=width, height=width * image.height / image.width)
    c.showPage()
    c.save()
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Share Purchase Agreement", level=1)
    document.add_paragraph("The purchase price is payable at closing.")
    table = document.add_table(rows=3, cols=2)
    for row, (party, role) in zip(table.rows, [("Party", "Role"), ("Gamma GmbH", "Seller"), ("Delta SA", "Buyer")]):
        row.cells[0].text = party
        row.cells[1].text = role
    document.add_paragraph("Closing shall occur on 1 March 2025.")
    document.save(str(path))
    return path


def make_xlsx(path: Path) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "Leases"
    first.append(["Property", "Tenant", "Rent"])
    first.append(["12 High Street", "Omega Ltd", 4500])
    first.append(["3 Mill Lane", "Sigma plc", 3200])
    second = workbook.create_sheet("Loans")
    second.append(["Lender", "Amount"])
    second.append(["First Bank", 1_000_000])
    workbook.save(str(path))
    return path


def make_zip_bomb_docx(path: Path, megabytes: int = 150) -> Path:
    """A .docx-named zip whose document.xml inflates from ~150 KB to ``megabytes`` MB of zeros."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(megabytes):
                member.write(block)
    return path


@pytest.fixture
def good_files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "good"
    folder.mkdir()
    (folder / "notes.html").write_text(
        "<html><head><title>Board minutes</title><style>p{color:red}</style></head>"
        "<body><h1>Minutes</h1><p>The board approved the <b>merger</b> with Epsilon.</p>"
        "<script>var x = 'hidden script';</script></body></html>", encoding="utf-8")
    (folder / "memo-latin1.txt").write_bytes(
        "Mémo: la société Zéta a résilié le contrat à Genève.\n".encode("latin-1"))
    (folder / "ledger.csv").write_text('id,party,amount\n1,"Acme, Inc.",100\n2,Beta,200\n', encoding="utf-8")
    (folder / "readme.md").write_text("# Data room\n\nIndex of the documents.\n", encoding="utf-8")
    (folder / "terms.json").write_text('{"term": "five years", "renewal": true}', encoding="utf-8")
    (folder / "calc.py").write_text("def fee(x):\n    return x * 0.02\n", encoding="utf-8")
    return {
        "pdf": make_pdf(folder / "msa.pdf", PDF_PAGES),
        "docx": make_docx(folder / "spa.docx"),
        "xlsx": make_xlsx(folder / "schedule.xlsx"),
        "html": folder / "notes.html",
        "latin1": folder / "memo-latin1.txt",
        "csv": folder / "ledger.csv",
        "md": folder / "readme.md",
        "json": folder / "terms.json",
        "code": folder / "calc.py",
    }


@pytest.fixture
def broken_files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "broken"
    folder.mkdir()
    whole = make_pdf(folder / "whole.pdf", PDF_PAGES * 3)
    data = whole.read_bytes()
    truncated = folder / "truncated.pdf"
    truncated.write_bytes(data[: len(data) // 2])
    whole.unlink()
    random_pdf = folder / "random.pdf"
    random_pdf.write_bytes(os.urandom(20_000))
    empty = folder / "empty.txt"
    empty.write_bytes(b"")
    unsupported = folder / "picture.bmp"
    unsupported.write_bytes(b"BM" + os.urandom(100))
    return {
        "truncated": truncated,
        "random": random_pdf,
        "encrypted": make_pdf(folder / "encrypted.pdf", ["Secret page"], encrypt="hunter2"),
        "empty": empty,
        "bomb": make_zip_bomb_docx(folder / "bomb.docx"),
        "unsupported": unsupported,
    }


@pytest.fixture
def write_contracts(tmp_path: Path) -> Callable[[int], tuple[Path, dict[str, int]]]:
    """60-style contract corpus: ``n`` text files, governing law cycling through states."""

    def build(n: int) -> tuple[Path, dict[str, int]]:
        folder = tmp_path / "contracts"
        folder.mkdir(exist_ok=True)
        states = ["Delaware", "New York", "California", "Texas"]
        counts: dict[str, int] = {}
        for i in range(n):
            state = states[(i * 7 + i // 5) % len(states)]
            counts[state] = counts.get(state, 0) + 1
            filler = "\n".join(f"Clause {j}. The parties agree to obligation {i}-{j}." for j in range(120))
            (folder / f"contract-{i:03d}.txt").write_text(
                f"CONTRACT {i:03d}\n{filler}\n\nGoverning law. This agreement is governed by the laws of "
                f"the State of {state}.\n", encoding="utf-8")
        return folder, counts

    return build
