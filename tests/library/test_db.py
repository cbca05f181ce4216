"""Schema migrations: a library written by an older release opens and is migrated in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from rlm_desktop.library import Library
from rlm_desktop.library.db import MIGRATIONS, schema_version


def test_a_schema_1_library_opens_and_migrates(tmp_path: Path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(sqlite3.connect(str(path)))
    db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied REAL NOT NULL)")
    with db.conn:
        MIGRATIONS[0](db)
        db.execute("INSERT INTO schema_version VALUES (1, 0)")
        db.execute("INSERT INTO documents (name, path, status, ingested, pages, chars) "
                   "VALUES ('old.txt', '/x/old.txt', 'stored', 0, 1, 12)")
        db.execute("INSERT INTO pages (doc_id, page, start, text) VALUES (1, 1, 0, 'old contract')")
    db.close()

    with Library.open(path) as lib:
        assert schema_version(lib.db) == len(MIGRATIONS)
        old = lib.documents()[0]
        assert (old.name, old.parent_id) == ("old.txt", None)
        assert lib.search("contract")[0]["document"] == "old.txt"
        assert lib.members(old.id) == [] and lib.page_images(old.id) == {}
