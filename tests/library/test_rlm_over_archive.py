"""An aggregation question over the members of a dropped archive, answered through `search` and
`grep` by a scripted root: the citations name the member path and the page (or slide)."""

from __future__ import annotations

from pathlib import Path

from rlm_desktop.library import Library

from .conftest import make_pdf
from .dataroom_files import email_message, make_zip

CELL = '''```repl
import re
law = re.compile(r"governed by the laws of ([A-Z][a-z]+)")
counts = {}
for hit in grep(r"governed by the laws of [A-Z][a-z]+"):
    state = law.search(hit.snippet).group(1)
    counts[state] = counts.get(state, 0) + 1
ranked = search("governed laws England", 20)
english = sorted(set(h.document for h in ranked if "England" in h.snippet))
cite(ranked[0])
answer = str(counts["England"]) + " of " + str(sum(counts.values())) + " contracts: English law (" + "; ".join(english) + ")"
print(counts)
```'''


def test_aggregation_over_archive_members_cites_member_paths(library: Library, tmp_path: Path):
    laws = ["England", "Norway", "England", "Delaware", "England", "Norway"]
    members: dict[str, bytes | Path] = {}
    for i, state in enumerate(laws):
        clause = f"Contract {i}. This agreement is governed by the laws of {state}."
        if i % 3 == 0:
            members[f"contracts/c{i}.pdf"] = make_pdf(tmp_path / f"c{i}.pdf", [f"Contract {i}. Parties.", clause])
        elif i % 3 == 1:
            members[f"contracts/c{i}.txt"] = clause.encode()
        else:
            mail = email_message(f"Contract {i}", "See attached.", attachments=[
                (f"c{i}.txt", "text/plain", clause.encode())])
            members[f"mail/c{i}.eml"] = mail.as_bytes()
    library.ingest([make_zip(tmp_path / "room.zip", members)], collection="room")

    from rlm_desktop.backends.scripted import ScriptedModel
    from rlm_desktop.engine import RLM, RLMConfig

    root = ScriptedModel([CELL, "FINAL_VAR(answer)"], name="scripted-root")
    rlm = RLM(root, ScriptedModel([], name="scripted-sub"), RLMConfig(max_iterations=3))
    result = rlm.run("How many contracts are governed by English law, and which?", library.load_context("room"),
                     tools={"search": lambda query, k=10: library.search(str(query), int(k), collection="room")})
    assert result.answer == ("3 of 6 contracts: English law (room.zip/contracts/c0.pdf; "
                             "room.zip/contracts/c4.txt; room.zip/mail/c2.eml/c2.txt)")
    cited = {(c.document, c.page) for c in result.citations}
    assert cited & {("room.zip/contracts/c0.pdf", 2), ("room.zip/contracts/c4.txt", 1),
                    ("room.zip/mail/c2.eml/c2.txt", 1)}
