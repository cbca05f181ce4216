"""Settings > Local services: start the OpenAI-compatible server, see the client and its run, stop it."""

from __future__ import annotations

import json
from pathlib import Path

import openai
from PySide6.QtCore import Qt

from rlm_desktop.settings import Settings

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
PRICE_TURN = ("```repl\nhits = grep(r'consideration for the Shares is EUR [0-9,]+')\n"
              "cite(hits[0].document, hits[0].page, hits[0].snippet)\nFINAL('EUR 48,500,000')\n```")


def test_a_client_run_shows_in_the_dialog_and_in_history(qtbot, make_window, library, tmp_path):
    library.ingest([SAMPLES], collection="heron")
    (tmp_path / "root.json").write_text(json.dumps([PRICE_TURN]), encoding="utf-8")
    (tmp_path / "sub.json").write_text("[]", encoding="utf-8")
    settings = Settings(root_model=f"scripted:{tmp_path / 'root.json'}", sub_model=f"scripted:{tmp_path / 'sub.json'}",
                        serve_port=0, mcp_port=0)
    window = make_window(settings=settings)
    window.history_panel.set_collection("heron")
    dialog = window.open_services_dialog()
    row = dialog.rows["openai"]
    assert row.status.text() == "Stopped" and row.port.text() == "any free port"

    qtbot.mouseClick(row.toggle, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.status.text().startswith("Running at http://127.0.0.1:"), timeout=30_000)
    url = row.status.text().removeprefix("Running at ")
    reply = openai.OpenAI(base_url=url, api_key="local", max_retries=0).chat.completions.create(
        model="rlm:heron", messages=[{"role": "user", "content": "What is the purchase price?"}])
    assert reply.choices[0].message.content.startswith("EUR 48,500,000")

    dialog.refresh()
    clients = [dialog.clients.topLevelItem(i).text(0) for i in range(dialog.clients.topLevelItemCount())]
    assert any(label.startswith("OpenAI/Python") for label in clients)
    run = dialog.runs.topLevelItem(0)
    assert run.text(0).startswith("serve: OpenAI/Python") and run.text(1) == "rlm:heron"
    assert run.text(3) == "finished" and run.text(4) == str(reply.model_extra["rlm"]["run_id"])

    dialog.close()  # History refreshes: the client's run is listed, marked with its client
    qtbot.waitUntil(lambda: window.history_panel.tree.topLevelItemCount() == 1, timeout=10_000)
    assert "· serve: OpenAI/Python" in window.history_panel.tree.topLevelItem(0).text(2)

    dialog = window.open_services_dialog()
    row = dialog.rows["openai"]
    assert row.status.text().startswith("Running at")  # servers outlive the dialog
    qtbot.mouseClick(row.toggle, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.status.text() == "Stopped", timeout=30_000)
    assert window.local_services.running() == []


def test_allowing_other_devices_generates_and_saves_a_token(qtbot, make_window):
    window = make_window(settings=Settings(serve_port=0, mcp_port=0))
    dialog = window.open_services_dialog()
    assert dialog.token.text() == ""
    dialog.allow_remote.setChecked(True)
    assert dialog.token.text().startswith("rlm-") and len(dialog.token.text()) > 30
    assert window.settings.service_allow_remote and window.settings.service_token == dialog.token.text()
    saved = Settings.load(window.settings_path)
    assert saved.service_allow_remote and saved.service_token == dialog.token.text()
    dialog.close()
