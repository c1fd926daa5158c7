"""Progress of a notebook run on the terminal, never on the book's pages.

Inside a notebook kernel, :func:`install` replaces ``sys.stderr`` by a :class:`ProgressFilter`: tqdm progress-bar
updates (the library's bars over clips, epochs and trainings) leave the page and go to a *side channel*, the file
named by the environment variable ``CLAPEMO_PROGRESS``; warnings and log messages still reach the page. Each cell
the kernel starts is announced on the side channel too (``step N: <first line of the cell>``).

``clapemo book run`` (:func:`clapemo.book.execute.run_notebook`, used by ``make reproduce``) creates that file,
starts the kernel with ``CLAPEMO_PROGRESS`` set, and relays the file to its own stderr (the terminal) while the
notebook runs. Without ``CLAPEMO_PROGRESS`` (JupyterLab) the bars are dropped, so a page never shows one.

Why a file and not an inherited file descriptor: ipykernel captures the kernel's fd 1 and 2 into the notebook's
outputs (``capture_fd_output``) and jupyter_client starts the kernel with ``close_fds``, so a descriptor passed
down from ``make`` never reaches the terminal; a named file does.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any, TextIO

__all__ = ["PROGRESS_ENV", "ProgressFilter", "side_channel", "quiet_progress", "messages_to_terminal", "install",
           "Relay"]

#: environment variable naming the side-channel file of progress bars and step lines
PROGRESS_ENV = "CLAPEMO_PROGRESS"

# tqdm's bar line: "desc: 40%|####      | 4/10 [00:01<00:02, 2.9task/s]" or, without a total,
# "desc: 4task [00:01, 2.9task/s]"
_BAR = re.compile(r"\d+%\|.*\||\d+\s*\S*\s*\[\d+:\d+(?::\d+)?(?:<|, )[^\]]*\]\s*$")

_sink: TextIO | None = None
_sink_path: str | None = None


def side_channel() -> TextIO | None:
    """The side-channel file named by ``$CLAPEMO_PROGRESS`` (opened once, appending, line-buffered), or None when
    the variable is unset or empty or the file cannot be opened."""
    global _sink, _sink_path
    path = os.environ.get(PROGRESS_ENV, "")
    if not path:
        return None
    if _sink is None or _sink_path != path or _sink.closed:
        try:
            _sink = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the kernel
            _sink_path = path
        except OSError:
            return None
    return _sink


class ProgressFilter(io.TextIOBase):
    """A stderr stand-in: tqdm bar updates go to ``sink`` (dropped when None), everything else to ``target``."""

    def __init__(self, target: Any, sink: TextIO | None = None) -> None:
        self.target = target
        self.sink = sink
        self._after_bar = False

    def write(self, text: str) -> int:
        kept = []
        for part in re.split(r"(?<=[\r\n])", text):
            body = part.strip("\r\n").strip()
            if not body:  # a bare line end: dropped when it closes a bar; a bare \r (a bar's start) always
                if not self._after_bar and "\n" in part:
                    kept.append(part)
                continue
            self._after_bar = bool(_BAR.search(body))
            if not self._after_bar:
                kept.append(part)
            elif self.sink is not None:
                try:
                    self.sink.write("\r" + body)
                    self.sink.flush()
                except (OSError, ValueError):  # the relay went away: progress is not worth a failure
                    self.sink = None
        if kept:
            self.target.write("".join(kept))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, ... of the wrapped stream
        return getattr(self.target, name)


@contextlib.contextmanager
def quiet_progress():
    """Keep library progress bars (tqdm, on stderr) out of notebook outputs (to the side channel when there is
    one); warnings and logs still show."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        if isinstance(sys.stderr, ProgressFilter):  # already routed (install): nothing to add
            yield
            return
        with contextlib.redirect_stderr(ProgressFilter(sys.stderr, side_channel())):
            yield


class _MessageLines(io.TextIOBase):
    """A stdout stand-in that sends each line to the side channel as ``log: <line>`` (dropped without one)."""

    def __init__(self, sink: TextIO | None) -> None:
        self.sink = sink
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        if self.sink is not None:
            for line in lines:
                if line.strip():
                    self.sink.write(f"\nlog: {line.rstrip()}\n")
            self.sink.flush()
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.write("\n")


@contextlib.contextmanager
def messages_to_terminal():
    """Send what a long step prints on stdout (the experiments' per-seed lines, the results folder) to the side
    channel: it is progress, and a results folder is an absolute path of this machine, not the page's business."""
    lines = _MessageLines(side_channel())
    with contextlib.redirect_stdout(lines), quiet_progress():
        try:
            yield
        finally:
            lines.flush()


def _kernel() -> Any:
    """The running IPython kernel shell, or None outside a kernel."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a notebook dependency
        return None
    shell = get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def install() -> bool:
    """In a notebook kernel: route progress bars off the page for the rest of the session, and announce each
    cell on the side channel. Idempotent; outside a kernel it does nothing and returns False."""
    shell = _kernel()
    if shell is None:
        return False
    warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm.auto without ipywidgets
    if not isinstance(sys.stderr, ProgressFilter):
        sys.stderr = ProgressFilter(sys.stderr, side_channel())
    if not getattr(shell, "_clapemo_steps", False):
        def announce(info: Any) -> None:
            sink = side_channel()
            if sink is None:
                return
            lines = [line for line in (info.raw_cell or "").splitlines() if line.strip()]
            first = lines[0].strip() if lines else ""
            sink.write(f"\nstep {shell.execution_count}: {first[:100]}\n")
            sink.flush()

        shell.events.register("pre_run_cell", announce)
        shell._clapemo_steps = True
    return True


class Relay:
    """Copy what the kernel writes to the side-channel file onto ``out`` (the terminal) while a notebook runs.

    ``step N: <first line>`` lines are shown as ``[label] step i/total (elapsed): <first line>``, ``i`` the cell's
    position among ``cells`` (the first lines of the notebook's code cells, in order; the kernel's own execution
    count also counts cells papermill runs unseen); bar updates pass through as they are (``\\r``-updated lines on
    a terminal; on a pipe or log file only every ``pipe_every_s`` seconds, as lines).
    """

    _STEP = re.compile(r"^step (\d+): (.*)$")
    _LOG = re.compile(r"^log: (.*)$")

    def __init__(self, path: str | Path, *, label: str, cells: list[str], out: TextIO | None = None,
                 poll_s: float = 0.2, pipe_every_s: float = 10.0) -> None:
        self.path = Path(path)
        self.label = label
        self.cells = [c.strip()[:100] for c in cells]
        self.total = len(cells)
        self._position = 0
        self.out = out if out is not None else sys.stderr
        self.poll_s = poll_s
        self.pipe_every_s = pipe_every_s
        self._tty = bool(getattr(self.out, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="clapemo-progress-relay", daemon=True)
        self._start = time.monotonic()
        self._last_bar_s = -1e9
        self._bar_open = False
        self._pending = ""
        self._last_done = ""

    def __enter__(self) -> "Relay":
        self.path.touch()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._bar_open:
            self.out.write("\n")
        self.out.flush()

    def _emit_line(self, text: str) -> None:
        if self._bar_open:
            self.out.write("\n")
            self._bar_open = False
        self.out.write(text + "\n")

    def _handle(self, chunk: str) -> None:
        data = self._pending + chunk
        parts = re.split(r"([\r\n])", data)
        # keep an unfinished trailing piece for the next read
        self._pending = parts.pop() if parts and parts[-1] != "" else ""
        for part in parts:
            if part in ("\r", "\n", ""):
                continue
            step = self._STEP.match(part)
            if step:
                elapsed = time.monotonic() - self._start
                text = step.group(2).strip()
                index = next((i for i in range(self._position, self.total) if self.cells[i] == text), None)
                if index is not None:
                    self._position = index + 1
                number = "?" if index is None else str(index + 1)
                self._emit_line(f"   [{self.label}] step {number}/{self.total} ({elapsed:.0f} s): {text}")
            elif self._LOG.match(part):
                self._emit_line("     " + self._LOG.match(part).group(1))
            elif self._tty:
                self.out.write("\r     " + part.strip() + "\033[K")
                self._bar_open = True
            else:
                now = time.monotonic()
                head = part.split("|")[0].strip()  # "train runs: 100%"
                done = "100%" in head
                if done and head == self._last_done:  # tqdm redraws a finished bar once more on close
                    continue
                if now - self._last_bar_s >= self.pipe_every_s or done:
                    self._emit_line("     " + part.strip())
                    self._last_bar_s = now
                    self._last_done = head if done else ""
        self.out.flush()

    def _loop(self) -> None:
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            while True:
                chunk = handle.read()
                if chunk:
                    self._handle(chunk)
                elif self._stop.is_set():
                    if self._pending:
                        self._handle("\n")
                    return
                else:
                    time.sleep(self.poll_s)
