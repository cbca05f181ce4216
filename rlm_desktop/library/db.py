"""The library database: connection, schema and migrations.

One SQLite file through sqlite-utils, in WAL mode so the GUI can read while an
ingest writes. ``schema_version`` holds the applied migration number; every
release adds migrations to :data:`MIGRATIONS` and never edits old ones.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Callable

import sqlite_utils

from rlm_desktop.errors import LibraryError

FTS_TABLE = "pages_fts"


_SCHEMA_1 = """
        CREATE TABLE collections (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created REAL NOT NULL
        );
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            path TEXT NOT NULL,
            sha256 TEXT,
            size INTEGER NOT NULL DEFAULT 0,
            mtime REAL,
            format TEXT,
            unit TEXT NOT NULL DEFAULT 'page',
            pages INTEGER NOT NULL DEFAULT 0,
            chars INTEGER NOT NULL DEFAULT 0,
            ocr_pages INTEGER NOT NULL DEFAULT 0,
            empty_pages INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL,
            error TEXT,
            version INTEGER NOT NULL DEFAULT 1,
            previous_id INTEGER,
            current INTEGER NOT NULL DEFAULT 1,
            ingested REAL NOT NULL
        );
        CREATE INDEX documents_sha256 ON documents(sha256);
        CREATE INDEX documents_path ON documents(path, current);
        CREATE TABLE collection_documents (
            collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            added REAL NOT NULL,
            PRIMARY KEY (collection_id, doc_id)
        );
        CREATE INDEX collection_documents_doc ON collection_documents(doc_id);
        CREATE TABLE pages (
            id INTEGER PRIMARY KEY,
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            page INTEGER NOT NULL,
            start INTEGER NOT NULL,
            text TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'text',
            flag TEXT,
            UNIQUE (doc_id, page)
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            question TEXT NOT NULL,
            collection TEXT,
            settings TEXT NOT NULL DEFAULT '{}',
            models TEXT NOT NULL DEFAULT '{}',
            answer TEXT,
            stopped_by TEXT,
            usage TEXT,
            summary TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            started REAL NOT NULL,
            finished REAL
        );
        CREATE TABLE run_documents (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            doc_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            sha256 TEXT,
            PRIMARY KEY (run_id, doc_id)
        );
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            at REAL,
            data TEXT NOT NULL
        );
        CREATE INDEX events_run ON events(run_id, seq);
        CREATE TABLE subcall_cache (
            key TEXT PRIMARY KEY,
            model_id TEXT NOT NULL,
            prompt TEXT NOT NULL,
            settings TEXT NOT NULL,
            answer TEXT NOT NULL,
            created REAL NOT NULL,
            hits INTEGER NOT NULL DEFAULT 0,
            last_hit REAL
        );
        CREATE TABLE file_hashes (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime REAL NOT NULL,
            sha256 TEXT NOT NULL
        );
"""


def _migration_1(db: sqlite_utils.Database) -> None:
    """First schema: documents, pages (+ FTS5), collections, runs, events, sub-call cache."""
    # One statement at a time: sqlite3's executescript() would COMMIT the migration's transaction.
    for statement in _SCHEMA_1.split(";"):
        if statement.strip():
            db.execute(statement)
    # FTS5 over page text, external content (the text is stored once, in `pages`),
    # kept in sync by triggers; ranked with bm25.
    db["pages"].enable_fts(["text"], fts_version="FTS5", create_triggers=True,
                           tokenize="unicode61 remove_diacritics 2")


_SCHEMA_2 = """
        ALTER TABLE runs ADD COLUMN owner TEXT;
        ALTER TABLE runs ADD COLUMN record_version INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE run_documents ADD COLUMN position INTEGER;
        CREATE TABLE ingest_jobs (
            id INTEGER PRIMARY KEY,
            collection TEXT,
            paths TEXT NOT NULL,
            files_done INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'running',
            owner TEXT,
            started REAL NOT NULL,
            finished REAL
        );
"""


def _migration_2(db: sqlite_utils.Database) -> None:
    """Work that survives a crash: which process runs a run or an ingest (to tell one that died),
    the run record's format, and the order of a run's documents (its ``context``)."""
    for statement in _SCHEMA_2.split(";"):
        if statement.strip():
            db.execute(statement)


def _migration_3(db: sqlite_utils.Database) -> None:
    """Containers (archives, e-mails) and their members; page pictures (images, scans) for the viewer."""
    db.execute("ALTER TABLE documents ADD COLUMN member_crc INTEGER")  # CRC-32 of an archive member
    # 0 while an archive's members are being ingested: a killed ingest walks it again on the next run
    db.execute("ALTER TABLE documents ADD COLUMN complete INTEGER NOT NULL DEFAULT 1")
    db.execute("""
        CREATE TABLE document_members (
            parent_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            member TEXT NOT NULL,
            child_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            PRIMARY KEY (parent_id, member)
        )""")
    db.execute("CREATE INDEX document_members_child ON document_members(child_id)")
    db.execute("""
        CREATE TABLE page_images (
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            page INTEGER NOT NULL,
            mime TEXT NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (doc_id, page)
        )""")


def _migration_4(db: sqlite_utils.Database) -> None:
    """Flags on documents: passages written to steer an AI and text a reader cannot see (library/flags.py).
    Documents stored before are left unchecked (``flags_checked`` 0) and checked from their text later."""
    db.execute("ALTER TABLE documents ADD COLUMN flags_checked INTEGER NOT NULL DEFAULT 0")
    db.execute("""
        CREATE TABLE document_flags (
            id INTEGER PRIMARY KEY,
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            page INTEGER,
            start INTEGER,
            "end" INTEGER,
            kind TEXT NOT NULL,
            reason TEXT NOT NULL,
            excerpt TEXT NOT NULL DEFAULT ''
        )""")
    db.execute("CREATE INDEX document_flags_doc ON document_flags(doc_id)")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_migration_1, _migration_2, _migration_3,
                                                              _migration_4]
"""Migration ``i`` (1-based) brings the schema from version ``i - 1`` to ``i``."""


def schema_version(db: sqlite_utils.Database) -> int:
    if "schema_version" not in db.table_names():
        return 0
    row = db.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite_utils.Database) -> int:
    """Apply pending migrations, each in its own transaction; returns the version reached."""
    if "schema_version" not in db.table_names():
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied REAL NOT NULL)")
        db.commit()
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise LibraryError(
            f"The library database is from a newer rlm-desktop (schema {current}, this one knows "
            f"{len(MIGRATIONS)}); upgrade the app."
        )
    for version in range(current + 1, len(MIGRATIONS) + 1):
        with db.atomic():
            MIGRATIONS[version - 1](db)
            db.execute("INSERT INTO schema_version (version, applied) VALUES (?, ?)", [version, time.time()])
    return len(MIGRATIONS)


def connect(path: Path) -> sqlite_utils.Database:
    """Open (creating if needed) the library at ``path``: WAL, foreign keys, migrations applied."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA busy_timeout = 30000")
        db.enable_wal()
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise LibraryError(f"Cannot open the library {path}: {exc}") from exc
    return db
