"""The frozen Linux build: built (or reused while fresh) by packaging/linux/build.sh, then run
headless the way a user would run it, with nothing from the virtualenv on its path.

Reuse: dist/ is rebuilt when any input (the package, packaging/, resources/, the catalog,
pyproject.toml) is newer than the tarball; RLM_PACKAGE_REBUILD=1 forces a build. A build takes
about 2 minutes on 2 cores (PyInstaller ~1-2 min, tar.gz ~1 min).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the frozen-build test builds the Linux artifact"),
]

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
APP = DIST / "rlm-desktop"
LEASE = ROOT / "resources" / "samples" / "04_office_lease_harbour_point.md"
BUILD_INPUTS = ("rlm_desktop", "packaging", "resources", "models/catalog.toml", "pyproject.toml")


def _tarball() -> Path | None:
    found = sorted(DIST.glob("rlm-desktop-*-linux-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def _newest_input() -> float:
    newest = 0.0
    for name in BUILD_INPUTS:
        path = ROOT / name
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for file in files:
            newest = max(newest, file.stat().st_mtime)
    return newest


@pytest.fixture(scope="module")
def frozen_app() -> Path:
    """dist/rlm-desktop, built now unless a build newer than every input is there."""
    tarball = _tarball()
    fresh = (tarball is not None and (APP / "rlm").is_file() and (APP / "rlm-desktop").is_file()
             and (DIST / "RLM_Desktop.AppDir" / "AppRun").is_file() and tarball.stat().st_mtime > _newest_input())
    if fresh and os.environ.get("RLM_PACKAGE_REBUILD") != "1":
        print(f"\nreusing the fresh build {tarball.name}")
        return APP
    started = time.monotonic()
    env = {**os.environ, "PYTHON": sys.executable}
    build = subprocess.run([str(ROOT / "packaging" / "linux" / "build.sh")], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=1200)
    assert build.returncode == 0, f"build.sh failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    print(f"\nbuilt the Linux artifact in {time.monotonic() - started:.0f} s")
    return APP


def _frozen_env(home: Path) -> dict[str, str]:
    """A user's environment: no virtualenv, no PYTHONPATH, a fresh data dir, offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "RLM_"))}
    env["PATH"] = "/usr/bin:/bin"
    env["RLM_DESKTOP_HOME"] = str(home)
    env["HF_HUB_OFFLINE"] = "1"
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def test_frozen_cli_starts_and_knows_its_commands(frozen_app: Path, tmp_path: Path) -> None:
    done = subprocess.run([str(frozen_app / "rlm"), "--help"], env=_frozen_env(tmp_path), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ask" in done.stdout
    version = subprocess.run([str(frozen_app / "rlm"), "--version"], env=_frozen_env(tmp_path),
                             capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and "0." in version.stdout


def test_appdir_entry_runs_the_cli_or_the_app(frozen_app: Path, tmp_path: Path) -> None:
    """AppRun (what the AppImage starts) runs the CLI with `rlm` as first argument or as its name."""
    app_run = DIST / "RLM_Desktop.AppDir" / "AppRun"
    for argv, extra in (([str(app_run), "rlm", "--version"], {}),
                        ([str(app_run), "--version"], {"ARGV0": "/home/user/bin/rlm"})):
        done = subprocess.run(argv, env={**_frozen_env(tmp_path), **extra}, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0 and done.stdout.startswith("rlm, version"), done.stderr


ROOT_TURNS = [
    "I will check the documents and ask the sub-model about the lease.\n"
    "```repl\n"
    "import statistics, textwrap\n"
    "hits = grep(r'[Rr]ent', max_hits=3)\n"
    "print(len(context), statistics.mean([1, 2, 3, 4]), len(hits) > 0)\n"
    "summary = llm_query('In one sentence, what kind of document is this?\\n\\n' + context[0][:1200])\n"
    "print(summary)\n"
    "```",
    "FINAL_VAR(summary)",
]


def test_frozen_ask_runs_cells_in_a_frozen_sandbox_worker_with_the_real_sub_model(
        frozen_app: Path, tmp_path: Path) -> None:
    """A scripted root (runtime's ``scripted:`` spec) makes the cell deterministic; the cell runs
    in the spawn worker of the frozen exe and calls the bundled SmolLM2 through llama.cpp."""
    script = tmp_path / "root.json"
    script.write_text(json.dumps(ROOT_TURNS), encoding="utf-8")
    rlm = str(frozen_app / "rlm")
    proc = subprocess.Popen(
        [rlm, "ask", "What is this document?", "--docs", str(LEASE), "--root", f"scripted:{script}",
         "--sub", "demo-smollm2-135m", "--threads", "2", "--json"],
        env=_frozen_env(tmp_path / "home"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    children: list[list[str]] = []
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            for child in parent.children(recursive=True):
                cmdline = child.cmdline()
                if cmdline and cmdline not in children:
                    children.append(cmdline)
        except psutil.Error:
            pass
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr[-3000:]

    workers = [c for c in children if c[0] == rlm and "--multiprocessing-fork" in c]
    assert workers, f"no sandbox worker spawned from the frozen exe; children seen: {children}"
    result = json.loads(stdout)
    outputs = [e for e in result["trajectory"] if e["kind"] == "cell_output"]
    assert len(outputs) == 1 and not outputs[0].get("error"), outputs
    assert outputs[0]["output"].startswith("1 2.5 True\n")  # context, allow-listed stdlib, grep
    answer = result["answer"].strip()
    assert result["stopped_by"] is None
    assert answer and answer in outputs[0]["output"]  # FINAL_VAR read the sub-model's text back
    assert result["usage"]["sub"]["completion_tokens"] > 0


def test_frozen_ask_with_the_demo_models_completes_with_answer_and_warning(frozen_app: Path,
                                                                          tmp_path: Path) -> None:
    """The bundled demo pair end to end. SmolLM2 as root answers poorly, so this checks what a
    user must see: the run completes, an answer section, the run summary and the demo warning.
    The user's settings file (which `rlm ask` reads) bounds the run to keep the suite short; a
    guard that ends it still has to yield the best answer available."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps(
        {"max_iterations": 2, "max_sub_calls": 4, "max_seconds": 90.0}), encoding="utf-8")
    done = subprocess.run(
        [str(frozen_app / "rlm"), "ask", "What is the monthly rent?", "--docs", str(LEASE), "--threads", "2"],
        env=_frozen_env(home), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "no answer printed"
    assert "Demo-grade models" in done.stderr
    assert "root turns" in done.stderr  # the run summary line


def test_frozen_gui_starts_offscreen_and_ingests_the_bundled_samples(frozen_app: Path, tmp_path: Path) -> None:
    """The windowed exe on a fresh data dir: Qt's offscreen plugin loads, the main window comes
    up and its first-run worker ingests the bundled sample documents into a new library."""
    home = tmp_path / "home"
    samples = sorted(p for p in (frozen_app / "_internal" / "resources" / "samples").iterdir() if p.is_file())
    assert samples, "no sample documents in the bundle"
    proc = subprocess.Popen([str(frozen_app / "rlm-desktop")], env=_frozen_env(home),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stored = 0
    try:
        deadline = time.monotonic() + 180
        while proc.poll() is None and time.monotonic() < deadline and stored < len(samples):
            time.sleep(0.5)
            stored = _count_documents(home / "library.db")
        assert proc.poll() is None, f"the GUI exited with {proc.returncode}:\n{proc.stdout.read()[-3000:]}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert stored == len(samples)
    log = (home / "logs" / "rlm-desktop.log").read_text(encoding="utf-8")
    assert "starting" in log and "uncaught error" not in log and "Traceback" not in log


def _count_documents(db: Path) -> int:
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0  # schema not created yet


def test_artifact_size(frozen_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tarball = _tarball()
    assert tarball is not None and tarball.stat().st_mtime >= (frozen_app / "rlm").stat().st_mtime
    packed = tarball.stat().st_size
    unpacked = sum(p.stat().st_size for p in frozen_app.rglob("*") if p.is_file() and not p.is_symlink())
    with capsys.disabled():
        print(f"\n{tarball.name}: {packed / 2**20:.0f} MiB packed, {unpacked / 2**20:.0f} MiB installed")
    # The SmolLM2 GGUF alone is 94 MiB and barely compresses; over 1 GiB means something heavy
    # (a second Qt, torch, the test extras) slipped into the bundle.
    assert 100 * 2**20 < packed < 2**30


def test_frozen_models_pull_downloads_from_a_hub_and_registers_the_model(
        frozen_app: Path, tmp_path: Path, loopback_hub, smollm2_path: Path) -> None:
    """The bundled hub client (huggingface-hub, httpx) against the loopback hub on 127.0.0.1."""
    repo, name = "test-org/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct.Q4_1.gguf"
    served = loopback_hub.add_file(repo, name, smollm2_path)
    env = {**_frozen_env(tmp_path / "home"), "HF_ENDPOINT": loopback_hub.url, "HF_HUB_OFFLINE": "0"}
    rlm = str(frozen_app / "rlm")
    pulled = subprocess.run([rlm, "models", "pull", repo, name, "--name", "smol-pulled"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert pulled.returncode == 0, pulled.stderr[-3000:]
    files = [p for p in (tmp_path / "home" / "models").rglob("*.gguf")]
    assert [f.stat().st_size for f in files] == [served.size]
    info = subprocess.run([rlm, "models", "info", "smol-pulled"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert info.returncode == 0 and "llama" in info.stdout, (info.stdout, info.stderr)


def _make_office_files(folder: Path) -> None:
    """One PDF, DOCX, XLSX and HTML file, each with a word only it contains."""
    import docx
    import openpyxl
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(folder / "memo.pdf"))
    pdf.drawString(72, 720, "Page one: the escrow amount is EUR 4,250,000.")
    pdf.showPage()
    pdf.drawString(72, 720, "Page two: closing on 30 June.")
    pdf.save()
    document = docx.Document()
    document.add_paragraph("The supplier warrants delivery within 14 days.")
    document.save(str(folder / "terms.docx"))
    workbook = openpyxl.Workbook()
    workbook.active.append(["customer", "revenue"])
    workbook.active.append(["Kestrel", 1200000])
    workbook.save(str(folder / "revenue.xlsx"))
    (folder / "notice.html").write_text("<html><body><h1>Notice</h1><p>Termination needs 90 days.</p></body></html>",
                                        encoding="utf-8")


def test_frozen_ingest_reads_pdf_docx_xlsx_html_with_the_bundled_extractors(frozen_app: Path,
                                                                           tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    _make_office_files(docs)
    env = _frozen_env(tmp_path / "home")
    rlm = str(frozen_app / "rlm")
    ingest = subprocess.run([rlm, "ingest", "-q", str(docs)], env=env, capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    assert "4 stored" in ingest.stdout and "memo.pdf  (2 pages)" in ingest.stdout, ingest.stdout
    for word, document in (("escrow", "memo.pdf, page 1"), ("Kestrel", "revenue.xlsx"),
                           ("warrants", "terms.docx"), ("Termination", "notice.html")):
        found = subprocess.run([rlm, "library", "search", word], env=env, capture_output=True, text=True, timeout=120)
        assert found.returncode == 0 and document in found.stdout, (word, found.stdout, found.stderr)


def test_frozen_ocr_reads_a_scanned_pdf_when_ocr_is_bundled(frozen_app: Path, tmp_path: Path) -> None:
    if not (frozen_app / "_internal" / "rapidocr_onnxruntime").is_dir():
        pytest.skip("this build has no OCR (rapidocr-onnxruntime was not installed when it was built)")
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.pdfgen import canvas

    image = Image.new("RGB", (1200, 300), "white")
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 48)
    except OSError:
        font = ImageFont.load_default(size=48)
    ImageDraw.Draw(image).text((40, 100), "Indemnity cap is 2 million", fill="black", font=font)
    image.save(tmp_path / "page.png")
    docs = tmp_path / "docs"
    docs.mkdir()
    pdf = canvas.Canvas(str(docs / "scanned.pdf"))  # a page with no text layer, only the picture
    pdf.drawImage(str(tmp_path / "page.png"), 36, 500, width=540, height=135)
    pdf.save()
    env = _frozen_env(tmp_path / "home")
    rlm = str(frozen_app / "rlm")
    ingest = subprocess.run([rlm, "ingest", "-q", str(docs)], env=env, capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0 and "1 OCR" in ingest.stdout, (ingest.stdout, ingest.stderr)
    found = subprocess.run([rlm, "library", "search", "indemnity"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert "scanned.pdf" in found.stdout and "2 million" in found.stdout, found.stdout
