"""The console: cobalt's own lines on the terminal, every library's output in a log file.

A run on a small machine goes through transformers, TRL, datasets, tokenizers and a sandbox
of subprocesses; each prints in its own way (``FutureWarning`` s, "Loading weights" and
"Writing model shards" bars, TRL's raw log dicts through ``tqdm.write``, C extensions writing
straight to file descriptor 2). By default (:meth:`Console.capture`) all of that goes to a log
file, and the terminal keeps:

- what cobalt's own code prints (``print`` called from a ``cobalt_rl`` module; a library's
  ``print`` goes to the log), and warnings our own loggers raise;
- one live progress line (:meth:`Console.status`): redrawn in place on a terminal, written at
  most every :attr:`Console.interval` seconds when the output is a file or a pipe;
- at the end, one summary of what was captured (warnings by kind, the number of other lines)
  and where the log is.

How: the process's file descriptors 1 and 2 are pointed at the log (so subprocesses and C code
write there too), ``sys.stdout`` / ``sys.stderr`` become routers that send a write to the
terminal only when the code that called ``print`` is ours, Python warnings are caught by
``warnings.showwarning`` and counted, and the root logger writes to the log. Everything is put
back when the ``with`` block ends, before any exception travels on (a traceback reaches the
real terminal). ``--verbose`` (:attr:`Console.verbose`) captures nothing: every line shows.

The terminal is a process-wide resource, so the console that owns it is too: the ``cobalt``
entry point installs one for the length of a command (:func:`installed`), and code that shows
progress asks for it with :func:`active`. Nothing happens at import.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TextIO

__all__ = ["Console", "active", "default_log_path", "installed"]

OURS = "cobalt_rl"
"""A ``print`` from a module under this package is ours; from anywhere else, a library's."""


class _Router:
    """A text stream for ``sys.stdout`` / ``sys.stderr`` while capturing: writes made by our
    code go to the terminal (and the log), every other write to the log only."""

    def __init__(self, console: Console, terminal: TextIO | None = None) -> None:
        self._console = console
        self._own_terminal = terminal  # None: the console's (stdout's router)

    @property
    def _terminal(self) -> TextIO:
        return self._own_terminal or self._console.terminal

    def write(self, text: str) -> int:
        if _written_by_us(sys._getframe(1)):
            self._console._to_terminal(text, self._terminal)
        else:
            self._console._to_log(text)
        return len(text)

    def flush(self) -> None:
        self._terminal.flush()
        self._console._flush_log()

    def isatty(self) -> bool:
        return False  # libraries asking (tqdm, transformers) draw no live bars into the log

    def fileno(self) -> int:
        return self._console._log_fd()

    @property
    def encoding(self) -> str:
        return "utf-8"

    def writable(self) -> bool:
        return True


_PRINT_PATCHERS = ("ray.",)
"""Libraries known to replace ``builtins.print`` process-wide (Ray's ``tqdm_ray``, Ray Train
and Serve), whose wrappers may call one another before the stream is written."""


def _written_by_us(frame: Any) -> bool:
    """Whether the code writing (``frame``) is ours. A library that replaces ``print`` with a
    wrapper of its own puts its frames between our ``print`` and the stream: such frames (a
    function named ``*print*``, or any frame of a known print-patching library) are looked
    through to their caller."""
    for _ in range(8):
        if frame is None:
            return False
        module = str(frame.f_globals.get("__name__", ""))
        if _ours(frame.f_globals):
            return True
        wrapper = "print" in frame.f_code.co_name or module.startswith(_PRINT_PATCHERS)
        if not wrapper:
            return False
        frame = frame.f_back
    return False


def _ours(module_globals: dict[str, Any]) -> bool:
    """Whether code with these globals is a ``cobalt_rl`` module (run as ``__main__`` too)."""
    name = module_globals.get("__name__", "")
    if name == "__main__":
        name = module_globals.get("__package__") or ""
    return bool(name == OURS or name.startswith(OURS + "."))


class _LogHandler(logging.Handler):
    """The root logger's handler while capturing: every record to the log; WARNING and above
    from our own loggers to the terminal too (a torn line moved aside, a resumed run)."""

    def __init__(self, console: Console) -> None:
        super().__init__(logging.INFO)
        self._console = console
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # logging's own contract: a bad record never raises
            self.handleError(record)
            return
        ours = record.name == OURS or record.name.startswith(OURS + ".")
        if ours and record.levelno >= logging.WARNING:
            self._console.echo(f"{record.levelname.lower()}: {record.getMessage()}")
            return
        self._console._to_log(text + "\n")
        if record.levelno >= logging.WARNING:
            kind = f"{record.name}: {record.getMessage().splitlines()[0][:160]}"
            self._console._count_warning(kind, text.count("\n") + 1)


def _terminal_stream(stream: TextIO, fd: int) -> TextIO:
    """Where our lines keep going once descriptor ``fd`` points at the log: a copy of the
    descriptor when ``stream`` writes to it (a real terminal, a pipe, pytest's capfd), else
    ``stream`` itself (an in-memory stream such as pytest's capsys, which no descriptor
    backs and the redirection does not reach)."""
    try:
        backed = stream.fileno() == fd
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        backed = False
    if not backed:
        return stream
    return os.fdopen(os.dup(fd), "w", buffering=1, encoding="utf-8", closefd=True)


class Console:
    """Where a command's output goes (see the module docstring).

    Args:
        verbose: show everything, capture nothing.
        stream: the terminal for our lines (default ``sys.stdout`` as it is when capture
            starts).
        interval: seconds between progress lines when the terminal is not a TTY.
    """

    def __init__(
        self, verbose: bool = False, stream: TextIO | None = None, interval: float = 60.0
    ) -> None:
        self.verbose = verbose
        self.interval = interval
        self.warnings: Counter[str] = Counter()
        """Library warnings captured, by kind (category and first line)."""
        self.log_path: Path | None = None
        self._stream = stream
        self._log: IO[bytes] | None = None
        self._lock = threading.RLock()
        self._status = ""
        self._status_shown = False
        self._status_written_at = time.monotonic()
        self._our_lines = 0
        self._warning_lines = 0
        self._log_start = 0

    # -- our lines ------------------------------------------------------------------------

    @property
    def terminal(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def is_tty(self) -> bool:
        isatty = getattr(self.terminal, "isatty", None)
        return bool(isatty and isatty())

    def echo(self, line: str) -> None:
        """Print one of our lines (above the live progress line, which is redrawn)."""
        self._to_terminal(line + "\n", self.terminal)

    def status(self, text: str, *, force: bool = False) -> None:
        """Show ``text`` as the live progress line: redrawn in place on a TTY; else written
        as a line at most every :attr:`interval` seconds (``force``: now)."""
        with self._lock:
            self._status = text
            if self.is_tty():
                self._draw_status()
                return
            now = time.monotonic()
            if force or now - self._status_written_at >= self.interval:
                self._status_written_at = now
                self._to_terminal(text + "\n", self.terminal, keep_status=True)

    def set_status(self, text: str) -> None:
        """Replace the progress line's text (a step's result, for its done line): redrawn
        on a TTY, not written to a file (the done line repeats it)."""
        with self._lock:
            self._status = text
            if self.is_tty():
                self._draw_status()

    def current_status(self) -> str:
        """The live progress line's text ("" when none)."""
        return self._status

    def end_status(self) -> str:
        """Clear the live progress line; returns its last text. The next line written to a
        file waits a full :attr:`interval` (a short step writes none)."""
        with self._lock:
            last, self._status = self._status, ""
            if self._status_shown:
                self.terminal.write("\r\x1b[K")
                self.terminal.flush()
                self._status_shown = False
            self._status_written_at = time.monotonic()
            return last

    def _draw_status(self) -> None:
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.terminal.write("\r\x1b[K" + self._status[:width])
        self.terminal.flush()
        self._status_shown = True

    def _to_terminal(self, text: str, terminal: TextIO, keep_status: bool = False) -> None:
        with self._lock:
            if self._status_shown:
                terminal.write("\r\x1b[K")
                self._status_shown = False
            terminal.write(text)
            terminal.flush()
            self._our_lines += text.count("\n")
            self._to_log(text)
            if self._status and not keep_status and self.is_tty():
                self._draw_status()

    # -- the log --------------------------------------------------------------------------

    def _to_log(self, text: str) -> None:
        if self._log is not None:
            with self._lock:
                self._log.write(text.encode("utf-8", "replace"))
                self._log.flush()

    def _flush_log(self) -> None:
        if self._log is not None:
            self._log.flush()

    def _log_fd(self) -> int:
        if self._log is None:
            raise OSError("the console is not capturing")
        return self._log.fileno()

    def _show_warning(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        text = warnings.formatwarning(message, category, filename, lineno, line)
        self._to_log(text)
        first = (str(message).splitlines() or [""])[0][:160]
        self._count_warning(f"{category.__name__}: {first}", text.count("\n"))

    def _count_warning(self, kind: str, lines: int) -> None:
        with self._lock:
            self.warnings[kind] += 1
            self._warning_lines += lines

    @contextmanager
    def capture(self, log_path: Path) -> Iterator[Console]:
        """Send every library's output to ``log_path`` (appended) for the ``with`` block;
        print the summary at its end. With :attr:`verbose`, capture nothing."""
        if self.verbose:
            yield self
            return
        sys.stdout.flush()
        sys.stderr.flush()
        saved_fds = (os.dup(1), os.dup(2))
        terminal_out = _terminal_stream(sys.stdout, 1)
        terminal_err = _terminal_stream(sys.stderr, 2)
        saved = (sys.stdout, sys.stderr, warnings.showwarning)
        if self._stream is None:
            self._stream = terminal_out
        root = logging.getLogger()
        handler = _LogHandler(self)
        saved_level = root.level
        created = not log_path.exists()
        try:
            self._open_log(log_path)
            sys.stdout = _Router(self)
            sys.stderr = _Router(self, terminal_err)
            warnings.showwarning = self._show_warning
            root.addHandler(handler)
            root.setLevel(min(saved_level or logging.WARNING, logging.INFO))
            yield self
        finally:
            self.end_status()
            root.removeHandler(handler)
            root.setLevel(saved_level)
            sys.stdout, sys.stderr, warnings.showwarning = saved
            os.dup2(saved_fds[0], 1)
            os.dup2(saved_fds[1], 2)
            for fd in saved_fds:
                os.close(fd)
            summary = self.summary()
            self._close_log()
            if not summary and created and self.log_path == log_path:
                log_path.unlink(missing_ok=True)  # a command that captured nothing leaves nothing
            for line in summary:
                self.terminal.write(line + "\n")
            self.terminal.flush()
            if self._stream is terminal_out:
                self._stream = None
            for stream, was in ((terminal_out, saved[0]), (terminal_err, saved[1])):
                if stream is not was:  # our own copy of a descriptor, not the caller's stream
                    stream.close()

    def attach_log(self, path: Path) -> None:
        """Move the log to ``path`` (a run's ``run.log``, known once its config is read):
        what was captured so far is copied there, and the rest is appended. No-op when not
        capturing, or already there."""
        if self._log is None or self.log_path is None or self.log_path == path:
            return
        with self._lock:
            old = self.log_path
            self._log.flush()
            written = old.read_bytes()[self._log_start :]
            self._close_log()
            self._open_log(path, header=False)
            assert self._log is not None
            self._log.write(written)
            self._log.flush()
            old.unlink(missing_ok=True)

    def _open_log(self, path: Path, header: bool = True) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._log = path.open("ab")
        self._log_start = self._log.tell()
        if header:
            started = f"--- cobalt {' '.join(sys.argv[1:])} (pid {os.getpid()}) {time.ctime()}"
            self._log.write(started.encode() + b"\n")
            self._log.flush()
        self.log_path = path
        os.dup2(self._log.fileno(), 1)
        os.dup2(self._log.fileno(), 2)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def summary(self) -> list[str]:
        """What was captured, in a line or four (nothing when nothing was)."""
        if self._log is None or self.log_path is None:
            return []
        self._log.flush()
        with self.log_path.open("rb") as f:
            f.seek(self._log_start)
            lines = f.read().count(b"\n") - 1  # the header
        other = max(0, lines - self._our_lines - self._warning_lines)
        if not other and not self.warnings:
            return []
        total, kinds = sum(self.warnings.values()), len(self.warnings)
        parts = [f"{total} warning{'s' * (total != 1)} of {kinds} kind{'s' * (kinds != 1)}"]
        parts = (parts if total else []) + ([f"{other} other lines"] if other else [])
        head = (
            f"library output ({' and '.join(parts)}) is in {self.log_path} "
            "(--verbose shows it here)"
        )
        commonest = [f"  {count} x {kind}" for kind, count in self.warnings.most_common(3)]
        return [head, *commonest]


_installed: list[Console] = []
_fallback: list[Console] = []


@contextmanager
def installed(console: Console, log_path: Path) -> Iterator[Console]:
    """Make ``console`` the process's console (:func:`active`) and capture into
    ``log_path`` for the ``with`` block."""
    _installed.append(console)
    try:
        with console.capture(log_path):
            yield console
    finally:
        _installed.pop()


def active() -> Console:
    """The console the entry point installed; outside one (a library caller, a test), a
    plain console that prints to ``sys.stdout`` and captures nothing."""
    if _installed:
        return _installed[-1]
    if not _fallback:
        _fallback.append(Console(verbose=True))
    return _fallback[0]


def default_log_path(command: str) -> Path:
    """Where a command's log goes until it names its own (a run moves it to ``run.log``)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.gettempdir()) / "cobalt-rl" / f"{command}-{stamp}-{os.getpid()}.log"
