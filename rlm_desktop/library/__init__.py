"""The document library: files into SQLite, searchable and citable, with runs and a sub-call cache.

Imports only the leaf modules (documents, errors, settings); never engine, sandbox, backends or hub.
"""

from rlm_desktop.library.archive import ArchiveLimits
from rlm_desktop.library.cache import SubCallCache
from rlm_desktop.library.extract_office import ZipLimits
from rlm_desktop.library.ingest import IngestLimits
from rlm_desktop.library.library import Library
from rlm_desktop.library.records import (
    CollectionInfo,
    DocumentInfo,
    FileResult,
    IngestProgress,
    IngestReport,
    RunRecord,
)

__all__ = [
    "ArchiveLimits", "CollectionInfo", "DocumentInfo", "FileResult", "IngestLimits", "IngestProgress", "IngestReport",
    "Library", "RunRecord", "SubCallCache", "ZipLimits",
]
