"""E-mails: headers searchable at the head of the body, attachments as their own linked documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library import Library
from rlm_desktop.library.extract import extract_file

from .conftest import PDF_PAGES, make_pdf
from .dataroom_files import email_message, make_eml, make_msg, make_xlsx_bytes


def test_eml_headers_and_plain_body_come_first(tmp_path: Path):
    message = email_message("Heron: price", "The price is 48.5m.\nRegards, Ann",
                            html="<p>The <b>HTML</b> version</p>")
    extracted = extract_file(make_eml(tmp_path / "price.eml", message))
    text = "".join(p.text for p in extracted.pages)
    assert extracted.format == "email"
    assert text.startswith("From: Ann Lee <ann@heron.example>\nTo: Bo Chen <bo@buyer.example>\n"
                           "Cc: legal@buyer.example\nDate: Tue, 04 Mar 2025 09:15:00 +0100\nSubject: Heron: price\n")
    assert "The price is 48.5m." in text and "HTML" not in text  # plain preferred over HTML


def test_html_only_body_becomes_text(tmp_path: Path):
    message = email_message("Update", "placeholder")
    message.set_content("<html><body><p>Closing moved to <b>14 April</b>.</p><script>x()</script></body></html>",
                        subtype="html")
    text = "".join(p.text for p in extract_file(make_eml(tmp_path / "update.eml", message)).pages)
    assert "Closing moved to 14 April." in text and "<b>" not in text and "x()" not in text


def test_attachments_become_linked_documents_stored_once(library: Library, tmp_path: Path):
    pdf = make_pdf(tmp_path / "msa.pdf", PDF_PAGES).read_bytes()
    first = make_eml(tmp_path / "first.eml", email_message("MSA", "Attached.", attachments=[
        ("msa.pdf", "application/pdf", pdf), ("leases.xlsx", "application/vnd.ms-excel", make_xlsx_bytes(tmp_path)),
        ("broken.pdf", "application/pdf", b"%PDF-1.4 this is not really a PDF")]))
    second = make_eml(tmp_path / "second.eml", email_message("MSA again", "Same file.", attachments=[
        ("msa copy.pdf", "application/pdf", pdf)]))
    other = tmp_path / "memo.txt"
    other.write_text("Memo kept in the same batch.\n", encoding="utf-8")
    report = library.ingest([first, second, other], collection="mail")
    by_label = {r.label: r for r in report.files}
    assert by_label["first.eml"].status == "stored"
    assert by_label["first.eml/msa.pdf"].status == "stored" and by_label["first.eml/msa.pdf"].pages == 3
    assert by_label["first.eml/leases.xlsx"].status == "stored"
    broken = by_label["first.eml/broken.pdf"]
    assert broken.status == "failed" and broken.reason.startswith("first.eml/broken.pdf: ")
    assert "PDF" in broken.reason
    assert by_label["second.eml/msa copy.pdf"].status == "duplicate"  # identical attachments stored once
    assert by_label["memo.txt"].status == "stored"

    mail = next(d for d in library.documents("mail") if d.name == "first.eml")
    members = dict((name, doc) for name, doc in library.members(mail.id))
    assert set(members) == {"msa.pdf", "leases.xlsx", "broken.pdf"}
    assert members["msa.pdf"].parent_id == mail.id and members["broken.pdf"].status == "failed"
    second_mail = next(d for d in library.documents("mail") if d.name == "second.eml")
    assert [doc.id for _, doc in library.members(second_mail.id)] == [members["msa.pdf"].id]
    hit = library.search("indemnifies the customer", collection="mail")[0]
    assert (hit["document"], hit["page"]) == ("first.eml/msa.pdf", 3)
    text = library.load_context(doc_ids=[mail.id])[0].text
    assert "Attachments: msa.pdf, leases.xlsx, broken.pdf" in text


def test_msg_headers_body_and_attachments(library: Library, tmp_path: Path):
    pdf = make_pdf(tmp_path / "letter.pdf", ["Disclosure letter. Warranty cap 35 percent."]).read_bytes()
    msg = make_msg(tmp_path / "revised.msg", attachments=[("disclosure letter.pdf", pdf)])
    extracted = extract_file(msg)
    text = "".join(p.text for p in extracted.pages)
    assert text.startswith("From: Ann Lee <ann@heron.example>\nTo: Bo Chen\nCc: Legal Team\n"
                           "Date: Tue, 04 Mar 2025 08:15:00 +0000\nSubject: Revised disclosure letter\n")
    assert "The warranty cap is now 35 percent" in text
    assert [(a.name, a.data) for a in extracted.attachments] == [("disclosure letter.pdf", pdf)]
    report = library.ingest([msg])
    assert {r.label: r.status for r in report.files} == {"revised.msg": "stored",
                                                          "revised.msg/disclosure letter.pdf": "stored"}


def test_msg_that_is_not_an_ole_file(tmp_path: Path):
    fake = tmp_path / "fake.msg"
    fake.write_text("From: someone\nSubject: saved as text, named .msg\n", encoding="utf-8")
    with pytest.raises(ExtractionError, match="fake.msg: not an Outlook .msg file"):
        extract_file(fake)


def test_text_file_named_eml_without_headers(tmp_path: Path):
    fake = tmp_path / "notes.eml"
    fake.write_text("just some words\nwithout any header\n", encoding="utf-8")
    with pytest.raises(ExtractionError, match="notes.eml: not an e-mail"):
        extract_file(fake)
