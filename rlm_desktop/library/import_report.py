"""An ingest's skipped and failed files grouped by reason, each reason with what to do about it.

The faces print :func:`reason_groups`; :func:`write_report_csv` writes every file of the batch.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from rlm_desktop.library.records import FileResult, IngestReport

# (pattern over the cause, reason as shown, what to do); the first match wins.
_REASONS: tuple[tuple[str, str | None, str], ...] = (
    (r"OCR is not available", "no text found: OCR is not available",
     "install the OCR engine (pip install rapidocr-onnxruntime, Python 3.12 or older) and add these files again"),
    (r"too small to hold", "no text: image too small to hold any", "nothing to do (icons and bullets)"),
    (r"no text in the image|no text in the file", "no text: nothing to read in it",
     "nothing to do; if it should hold text, check it opens in its own program"),
    (r"encrypted|password", "encrypted or password-protected",
     "unlock it (save a copy without the password) and add that copy"),
    (r"legacy \.doc|legacy \.ppt|legacy Word|legacy PowerPoint", "legacy Office format (.doc, .ppt)",
     "save it as .docx or .pptx and add that"),
    (r"7z archives", "7z archive", "convert it to .zip or .tar.gz and add that"),
    (r"zip bomb|unpacks? to more than|would unpack", "refused: would unpack too much (zip bomb?)",
     "unpack it yourself if you trust it and add the folder"),
    (r"over the .* limit for one file", "larger than the limit for one file", "split it, or raise the limit"),
    (r"link member|device or other special", "link or special member of an archive",
     "nothing to do: links are never followed"),
    (r"would be written outside|control characters|collides", "unsafe or clashing name in an archive",
     "nothing to do: the member is refused for safety"),
    (r"nested more than|times over", "nested too deep", "unpack the outer archive and add what it holds"),
    (r"empty file", "empty file", "nothing to do"),
    (r"not a document \([^)]*\)", None, "nothing to do: it holds no document text"),
    (r"cancelled", "cancelled", "add the files again"),
    (r"no such file", "no such file or folder", "check the path"),
    (r"cannot be read \(", "cannot be read (permissions?)", "check you may read it"),
    (r"damaged|truncated|not a valid|not a PDF|could not be read|malformed|not readable",
     "damaged or not what its name says", "open it in its own program; save a fresh copy and add that"),
)


@dataclass
class ReasonGroup:
    """Files of one status that share one reason."""

    status: str                 # "skipped" | "failed"
    reason: str
    advice: str
    count: int = 0
    examples: list[str] = field(default_factory=list)


def cause(result: FileResult) -> str:
    """The reason without the leading document name."""
    reason = result.reason or ""
    for name in (result.label, result.path.name):
        if reason.startswith(name + ": "):
            return reason[len(name) + 2:]
    return reason


def classify(result: FileResult) -> tuple[str, str]:
    """(reason as shown, what to do) for a skipped or failed file."""
    text = cause(result)
    for pattern, reason, advice in _REASONS:
        match = re.search(pattern, text, re.I)
        if match:
            return reason or match.group(0), advice
    return text or "unknown reason", "see the reason; report it if the file opens elsewhere"


def reason_groups(report: IngestReport, examples: int = 3) -> list[ReasonGroup]:
    """Skipped and failed files grouped by (status, reason), largest first, with a few example paths."""
    groups: dict[tuple[str, str], ReasonGroup] = {}
    for result in report.files:
        if result.status not in ("skipped", "failed"):
            continue
        reason, advice = classify(result)
        group = groups.setdefault((result.status, reason), ReasonGroup(result.status, reason, advice))
        group.count += 1
        if len(group.examples) < examples:
            group.examples.append(str(result.name or result.path))
    return sorted(groups.values(), key=lambda g: (g.status != "failed", -g.count, g.reason))


def write_report_csv(report: IngestReport, path: Path) -> None:
    """Every file of the batch: path, document name, status, reason group, what to do, the full reason."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "document", "status", "reason", "what to do", "detail", "pages", "size"])
        for result in report.files:
            reason, advice = classify(result) if not result.ok else ("", "")
            writer.writerow([str(result.path), result.name or "", result.status, reason, advice,
                             result.reason or "", result.pages, result.size])
