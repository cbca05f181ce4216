"""Real files of the data-room formats, written by the tests: PowerPoint, e-mail, OpenDocument, RTF,
images, legacy Excel and ZIP archives."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

from .cfb_writer import msg_tree, write_cfb


def make_pptx(path: Path) -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[1])
    first.shapes.title.text = "Project Heron"
    first.placeholders[1].text = "Acquisition of Halvard Systems"
    first.notes_slide.notes_text_frame.text = "Mention the escrow of 4,850,000 only if asked."
    second = deck.slides.add_slide(deck.slide_layouts[5])
    second.shapes.title.text = "Key terms"
    table = second.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(1.5)).table
    for r, (term, value) in enumerate([("Term", "Value"), ("Purchase price", "48,500,000"),
                                       ("Long-stop date", "30 June 2025")]):
        table.cell(r, 0).text = term
        table.cell(r, 1).text = value
    low = second.shapes.add_textbox(Inches(1), Inches(5), Inches(6), Inches(1))
    low.text_frame.text = "Signing expected in Q2."
    deck.save(str(path))
    return path


def email_message(subject: str, body: str, *, html: str | None = None,
                  attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
                  sender: str = "Ann Lee <ann@heron.example>", to: str = "Bo Chen <bo@buyer.example>",
                  cc: str = "legal@buyer.example") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Cc"] = cc
    message["Date"] = "Tue, 04 Mar 2025 09:15:00 +0100"
    message["Subject"] = subject
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for name, mime, data in attachments:
        maintype, subtype = mime.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def make_eml(path: Path, message: EmailMessage) -> Path:
    path.write_bytes(message.as_bytes())
    return path


def make_msg(path: Path, *, attachments: list[tuple[str, bytes]] = ()) -> Path:  # type: ignore[assignment]
    # 2025-03-04 08:15:00 UTC as a Windows FILETIME
    filetime = (1741076100 + 11644473600) * 10_000_000
    return write_cfb(path, msg_tree(
        subject="Revised disclosure letter", sender="Ann Lee", sender_email="ann@heron.example",
        to="Bo Chen", cc="Legal Team", body="Please find the revised disclosure letter attached.\r\n"
        "The warranty cap is now 35 percent of the price.", submit_filetime=filetime,
        attachments=attachments))


def _odf(path: Path, mimetype: str, body: str) -> Path:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
        'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" office:version="1.3">'
        f"<office:body>{body}</office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # first and stored, as the format requires
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return path


def make_odt(path: Path) -> Path:
    return _odf(path, "application/vnd.oasis.opendocument.text", (
        "<office:text><text:h text:outline-level=\"1\">Supply Agreement</text:h>"
        "<text:p>The supplier<text:s/>delivers <text:span>widgets</text:span> monthly.<text:tab/>Net 30.</text:p>"
        "<table:table table:name=\"Prices\"><table:table-row><table:table-cell><text:p>Widget</text:p>"
        "</table:table-cell><table:table-cell><text:p>12.50</text:p></table:table-cell></table:table-row>"
        "</table:table><text:p>Governed by the laws of Norway.</text:p></office:text>"))


def make_ods(path: Path) -> Path:
    return _odf(path, "application/vnd.oasis.opendocument.spreadsheet", (
        "<office:spreadsheet><table:table table:name=\"Leases\">"
        "<table:table-row><table:table-cell><text:p>Property</text:p></table:table-cell>"
        "<table:table-cell><text:p>Rent</text:p></table:table-cell></table:table-row>"
        "<table:table-row><table:table-cell><text:p>12 High Street</text:p></table:table-cell>"
        "<table:table-cell><text:p>4500</text:p></table:table-cell>"
        "<table:table-cell table:number-columns-repeated=\"1020\"/></table:table-row>"
        "<table:table-row table:number-rows-repeated=\"1048570\"><table:table-cell "
        "table:number-columns-repeated=\"1024\"/></table:table-row></table:table></office:spreadsheet>"))


def make_odp(path: Path) -> Path:
    return _odf(path, "application/vnd.oasis.opendocument.presentation", (
        "<office:presentation><draw:page draw:name=\"one\"><draw:frame><draw:text-box>"
        "<text:p>Board update</text:p></draw:text-box></draw:frame><presentation:notes><draw:frame>"
        "<draw:text-box><text:p>Speak slowly.</text:p></draw:text-box></draw:frame></presentation:notes>"
        "</draw:page><draw:page draw:name=\"two\"><draw:frame><draw:text-box><text:p>Revenue grew 12%</text:p>"
        "</draw:text-box></draw:frame></draw:page></office:presentation>"))


def make_rtf(path: Path) -> Path:
    path.write_bytes(b"{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times;}}\\f0\\fs24 Side letter\\par "
                     b"The seller waives the non-compete in Soci\\'e9t\\'e9 G\\'e9n\\'e9rale's favour.\\par}")
    return path


def text_image(lines: list[str], size: int = 48):
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1240, 160 + 120 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size)
    for i, line in enumerate(lines):
        draw.text((60, 80 + 120 * i), line, fill="black", font=font)
    return image


def make_png(path: Path, lines: list[str]) -> Path:
    text_image(lines).save(path)
    return path


def make_tiff(path: Path, pages: list[list[str]]) -> Path:
    images = [text_image(lines) for lines in pages]
    images[0].save(path, save_all=True, append_images=images[1:], compression="tiff_deflate")
    return path


def make_blank_jpg(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (800, 600), "white").save(path, quality=90)
    return path


def make_xls(path: Path) -> Path:
    import datetime

    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Loans")
    for col, value in enumerate(["Lender", "Amount", "Maturity"]):
        sheet.write(0, col, value)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    sheet.write(1, 0, "First Bank")
    sheet.write(1, 1, 1_000_000)
    sheet.write(1, 2, datetime.date(2029, 6, 30), date_style)
    book.save(str(path))
    return path


def make_zip(path: Path, members: dict[str, bytes | Path], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, (2025, 3, 4, 9, 0, 0)),
                             data.read_bytes() if isinstance(data, Path) else data, compress_type=compression)
    return path


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def make_xlsx_bytes(folder: Path) -> bytes:
    from .conftest import make_xlsx

    return make_xlsx(folder / "_workbook.xlsx").read_bytes()
