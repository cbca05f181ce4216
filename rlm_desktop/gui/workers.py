"""Background work for the window: every engine, library and hub call runs here.

A :class:`Task` runs one callable on a worker thread and reports back through Qt
signals (queued onto the GUI thread). The callable may take a ``report`` keyword
to send progress values while it works. Errors become short readable messages;
the full traceback goes to the log file only.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from rlm_desktop.errors import RLMDesktopError

log = logging.getLogger(__name__)


def user_message(exc: BaseException) -> str:
    """A short message for the user: the typed error's text, or a generic line for bugs."""
    if isinstance(exc, RLMDesktopError):
        return str(exc) or type(exc).__name__
    if isinstance(exc, MemoryError):
        return "Out of memory. Try a smaller model or fewer documents."
    if isinstance(exc, OSError) and exc.strerror:
        name = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{name}"
    return f"Unexpected error: {type(exc).__name__}: {exc}. Details are in the log file."


class TaskSignals(QObject):
    """Signals of one task; a QObject because QRunnable cannot carry signals."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    done = Signal()  # after finished or failed, always


class Task(QRunnable):
    """Runs ``fn(*args, **kwargs)`` on a pool thread.

    If ``fn`` accepts a ``report`` keyword argument it receives a callable that
    emits :attr:`TaskSignals.progress` (safe from any thread).
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, description: str = "", **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the pool keeps a Python reference until done
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.description = description or getattr(fn, "__name__", "task")
        self.signals = TaskSignals()
        if _accepts_report(fn) and "report" not in kwargs:
            self.kwargs["report"] = self.signals.progress.emit

    def run(self) -> None:  # noqa: D102 - runs on the worker thread
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the user
            if isinstance(exc, RLMDesktopError):
                log.warning("%s failed: %s", self.description, exc)
            else:
                log.exception("%s failed", self.description)
            self.signals.failed.emit(user_message(exc))
        else:
            self.signals.finished.emit(result)
        finally:
            self.signals.done.emit()


def _accepts_report(fn: Callable[..., Any]) -> bool:
    try:
        return "report" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class Workers(QObject):
    """The app's thread pool; keeps tasks alive until they finish.

    ``start`` wires the optional callbacks (called on the GUI thread) and returns
    the task, so callers can also connect to its signals directly.
    """

    busy_changed = Signal(int)  # number of tasks still running

    def __init__(self, max_threads: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._running: set[Task] = set()

    def start(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        description: str = "",
        **kwargs: Any,
    ) -> Task:
        task = Task(fn, *args, description=description, **kwargs)
        if on_result is not None:
            task.signals.finished.connect(on_result)
        if on_error is not None:
            task.signals.failed.connect(on_error)
        if on_progress is not None:
            task.signals.progress.connect(on_progress)
        task.signals.done.connect(lambda t=task: self._finished(t))
        self._running.add(task)
        self.busy_changed.emit(len(self._running))
        self.pool.start(task)
        return task

    def _finished(self, task: Task) -> None:
        self._running.discard(task)
        self.busy_changed.emit(len(self._running))

    @property
    def running(self) -> int:
        return len(self._running)

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until every task has finished (used on quit and in tests)."""
        return self.pool.waitForDone(msecs)
