"""A question over a folder of licence texts named like the standard ones (GPL-3, MPL-2.0, ...), none with a
real extension: they are stored as text, and a scripted root answers through `grep` and `search` with
citations naming those files."""

from __future__ import annotations

from pathlib import Path

from rlm_desktop.library import Library

LICENCES = {
    "GPL-3": "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\nThis is a copyleft license.\n",
    "LGPL-2.1": "GNU LESSER GENERAL PUBLIC LICENSE\nVersion 2.1, February 1999\nA weaker copyleft license.\n",
    "MPL-2.0": "Mozilla Public License Version 2.0\nFile-level copyleft license.\n",
    "GFDL-1.3": "GNU Free Documentation License\nVersion 1.3, 3 November 2008\nA copyleft license for manuals.\n",
    "Apache-2.0": "Apache License\nVersion 2.0, January 2004\nA permissive license with a patent grant.\n",
}

CELL = '''```repl
copyleft = sorted(set(h.document for h in grep(r"copyleft")))
for hit in search("copyleft", 10):
    cite(hit)
answer = str(len(copyleft)) + " copyleft: " + ", ".join(copyleft)
print(answer)
```'''


def test_question_over_licence_texts_cites_the_files(library: Library, tmp_path: Path):
    folder = tmp_path / "licenses"
    folder.mkdir()
    for name, text in LICENCES.items():
        (folder / name).write_text(text, encoding="utf-8")
    report = library.ingest([folder], collection="licences")
    assert report.count("stored") == len(LICENCES), [(r.label, r.reason) for r in report.files]

    from rlm_desktop.backends.scripted import ScriptedModel
    from rlm_desktop.engine import RLM, RLMConfig

    root = ScriptedModel([CELL, "FINAL_VAR(answer)"], name="scripted-root")
    rlm = RLM(root, ScriptedModel([], name="scripted-sub"), RLMConfig(max_iterations=3))
    result = rlm.run("Which of these licences are copyleft?", library.load_context("licences"),
                     tools={"search": lambda query, k=10: library.search(str(query), int(k), collection="licences")})
    assert result.answer == "4 copyleft: GFDL-1.3, GPL-3, LGPL-2.1, MPL-2.0"
    assert {c.document for c in result.citations} == {"GFDL-1.3", "GPL-3", "LGPL-2.1", "MPL-2.0"}
