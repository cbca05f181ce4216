"""Application set-up: logging to the data dir, theme following the OS, the main window."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from rlm_desktop import __version__
from rlm_desktop.errors import RLMDesktopError
from rlm_desktop.settings import APP_NAME, Settings, log_path

log = logging.getLogger("rlm_desktop")


def configure_logging(level: int = logging.INFO) -> None:
    """Log to a rotating file in the data dir; uncaught errors go there, never to a dialog traceback."""
    path = log_path()
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) and getattr(h, "baseFilename", "") == str(path)
               for h in root.handlers):
        root.addHandler(handler)
    root.setLevel(level)

    def excepthook(exc_type: Any, exc: BaseException, tb: Any) -> None:
        logging.getLogger("rlm_desktop.uncaught").error("uncaught error", exc_info=(exc_type, exc, tb))

    sys.excepthook = excepthook
    threading.excepthook = lambda args: excepthook(args.exc_type, args.exc_value, args.exc_traceback)


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with names, icon and theme set (reuses an existing one)."""
    from rlm_desktop.gui.theme import app_icon, apply_theme, follow_os_theme

    app = QApplication.instance()
    if app is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_DontShowIconsInMenus, False)
        app = QApplication(list(argv if argv is not None else sys.argv))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName("RLM Desktop")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    apply_theme(app)
    follow_os_theme(app)
    return app  # type: ignore[return-value]


def run(argv: list[str] | None = None) -> int:
    """Open the library and the main window; returns the exit code."""
    from rlm_desktop.gui.xcb_check import xcb_problem

    configure_logging()
    problem = xcb_problem()
    if problem:  # Qt would abort with "could not load the Qt platform plugin xcb", naming nothing to install
        log.error("not starting: %s", problem)
        print(problem, file=sys.stderr)
        return 1
    app = create_application(argv)
    log.info("rlm-desktop %s starting; log at %s", __version__, log_path())
    from rlm_desktop.gui.main_window import MainWindow
    from rlm_desktop.library import Library

    try:
        library = Library.open()
    except RLMDesktopError as exc:
        QMessageBox.critical(None, "RLM Desktop", f"The document library could not be opened.\n\n{exc}\n\n"
                             f"Details are in {log_path()}.")
        return 1
    window = MainWindow(library, settings=Settings.load(), first_run_samples=True, prepare_models=True)
    window.show()
    code = app.exec()
    close = getattr(library, "close", None)
    if callable(close):
        close()
    return int(code)
