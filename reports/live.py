"""The report printed while the run is still going, so its end only joins the pages.

`rig run` starts this as a child process (`python -m reports.live RUN_DIR`) next to the
test session. It follows the results store as it grows: it draws the plot of each
measurement that names a waveform, and once a plan module's plans have all ended (the
run has moved on to the next module) it prints that module's chapter of the PDF
(`reports.parts`). It loads WeasyPrint first, then runs at low priority on the core
the run leaves idle (a run against simlab spends its time in a ping-pong between the rig
and the lab, one core). At the run's end it prints what is left of the PDF (a short
report whole) and joins it while `rig run` writes the HTML, JUnit and Allure.

Nothing depends on it: the report builder takes a plot or a part only if it is exactly
what it would draw or print itself (`reports.plot_files`, `reports.parts`), so if this
process falls behind, dies or is never started, the report is the same, only later.

It is ended through its stdin. The word `finish` with the report's minute of issue,
then EOF (`rig run`, once the session is over): print the front and back matter for that
minute, the chapters left (a short report whole) and join the report, while a fork of
this process prints the chapters left ahead of it and the builder writes HTML, JUnit and
Allure. The word
`chapters` then EOF (`rig report`, the store whole from the start): print the chapters
only; the front and back matter may carry an approver's name, so they and the joining
stay the builder's. EOF alone (`rig run` stopped, or died and the kernel closed the
pipe): stop after the item in hand.
It lives in the rig's session, so its low priority counts against the rig's own share
of the CPU, and in a process group of its own, so the terminal's Ctrl-C reaches the rig
alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from reports.plot_files import is_fresh, mark_of, plan_title, plot_key, plot_path, plot_title

STORE = "results.jsonl"
SCRATCH = "report-scratch"  # the live printer's temporary files
POLL_S = 0.25  # real time: this process watches files, it is no part of the measurement
NICE = 10  # the priority it prints at once loaded: the run comes first
FINISH = b"finish"  # then a space, the minute of issue and a newline
CHAPTERS_ONLY = b"chapters\n"

# what the follower is told between items: go on, stop now, print what is left and join
# the report (the end of `rig run`), or print the chapters left and stop (`rig report`)
GO, STOP, FINISHING, CHAPTERS = "go", "stop", "finish", "chapters"


class LivePrinter:
    """The child process, as `rig run` holds it."""

    def __init__(self, proc: subprocess.Popen[bytes], run_dir: Path | None = None):
        self.proc = proc
        self.run_dir = run_dir
        self.finishing = False  # told to finish the PDF (`finish`)
        self.issued: str | None = None  # the minute of issue it was told with it

    @classmethod
    def start(cls, run_dir: Path) -> LivePrinter | None:
        if os.name != "posix":  # it waits on its stdin with select(), and shares by flock()
            return None  # the report prints everything itself
        # its temporary files (WeasyPrint's copies of the fonts) in the run folder: it is
        # killed once the report is joined, and they go with the folder below (`end`)
        scratch = Path(run_dir) / SCRATCH
        try:
            scratch.mkdir(parents=True, exist_ok=True)
            proc = subprocess.Popen(
                [sys.executable, "-m", "reports.live", str(run_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                process_group=0,
                env={**os.environ, "TMPDIR": str(scratch.resolve())},
            )
        except OSError:
            return None  # the report prints everything itself
        return cls(proc, Path(run_dir))

    def finish(self) -> None:
        """The session is over: print what is left and join it, while the report is
        being built, for the minute of issue the builder will state too (`issued`)."""
        from reports.model import issue_time

        self.finishing, self.issued = True, issue_time()
        self._close(FINISH + b" " + self.issued.encode() + b"\n")

    def wait_for(self, path: Path, timeout_s: float = 60.0) -> None:
        """Until `path` is written, or this process has ended, or `timeout_s` passed."""
        deadline = time.monotonic() + timeout_s
        while not path.exists() and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # real time: waiting on another process's file

    def print_chapters(self) -> None:
        """The store is whole (`rig report`): print the chapters from the first, while the
        builder prints ahead of it; the front and back matter are the builder's own (it
        may sign them), and so is the joining."""
        self._close(CHAPTERS_ONLY)

    def end(self, run_dir: Path) -> None:
        """The report is built: whatever the child still does is redundant. End it now
        (its writes are atomic), and remove anything of the parts it left behind."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        from reports.parts import FOLDER

        shutil.rmtree(Path(run_dir) / FOLDER, ignore_errors=True)
        shutil.rmtree(Path(run_dir) / SCRATCH, ignore_errors=True)
        with contextlib.suppress(OSError):
            (Path(run_dir) / "report.lock").unlink()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop after the item in hand; kill it if it does not."""
        self._close(b"")
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir / SCRATCH, ignore_errors=True)

    def _close(self, word: bytes) -> None:
        stdin = self.proc.stdin
        if stdin is None or stdin.closed:
            return
        with contextlib.suppress(OSError):
            if word:
                stdin.write(word)
                stdin.flush()
        with contextlib.suppress(OSError):
            stdin.close()


def warm_up() -> None:
    """Import and compile what the report's PDF needs (about a second) as this process
    starts, while the run starts beside it: by the run's end it only prints. Done here,
    not in `rig run`'s own process, where it would hold up the run's start (and not in a
    thread there: the import's warnings filter is process-wide state that pytest swaps
    per test)."""
    with contextlib.suppress(Exception):
        import pikepdf  # noqa: F401

        from reports.engine import weasyprint
        from reports.html import environment

        weasyprint()
        for name in ("report.css", "part.html.j2", "report.html.j2"):
            environment().get_template(name)
        from reports.build import shared_plotter

        shared_plotter()  # numpy and the plots' fonts, for the first trip plot


def follow(run_dir: Path, told: Callable[[float], str]) -> int:
    """Draw plots and print finished chapters for the store as it grows, until `told`
    (which waits up to the given seconds for a word) says stop or finish; returns how
    many items (plots and parts) were made."""
    offset, made, modules, printed, ended = 0, 0, [], set(), False
    tried: set[str] | None = set()  # the modules done when the chapters were last walked
    while True:
        offset, new = _new_records(run_dir / STORE, offset)
        for record in new:
            word = told(0.0)
            if word != GO:
                return made + _last(run_dir, word, printed, getattr(told, "issued", None))
            made += _draw(run_dir, record) if record.get("type") == "measurement" else 0
            module = _module(record)
            if module and module not in modules:
                modules.append(module)
            ended = ended or record.get("type") == "run_end"
        done = None if ended else set(modules[:-1])
        # walked again only once another module is done: a short chapter waits for the next
        if new and done != tried and (done is None or done - printed):
            try:
                made += _print_chapters(run_dir, printed, done, told)
            except Told as word:  # the run ended meanwhile: what is left is shared now
                return made + _last(run_dir, word.word, printed, getattr(told, "issued", None))
            tried = done
        word = told(POLL_S)
        if word != GO:
            return made + _last(run_dir, word, printed, getattr(told, "issued", None))


def _last(run_dir: Path, word: str, printed: set[str], issued: str | None = None) -> int:
    """What is left to do when told to stop, finish or print the chapters."""
    if word == FINISHING:
        return _finish(run_dir, printed, issued)
    if word == CHAPTERS:
        return _print_chapters(run_dir, printed, None)
    return 0


class Told(Exception):
    """A word other than go, heard between two parts of a walk over the chapters."""

    def __init__(self, word: str):
        super().__init__(word)
        self.word = word


def _print_chapters(
    run_dir: Path,
    printed: set[str],
    modules: set[str] | None,
    told: Callable[[float], str] | None = None,
) -> int:
    """Print the chapters of `modules` (None: every chapter) in their parts
    (`reports.parts.segments`), in run order, each after its plots; `printed` holds the
    modules whose parts are printed. With `told`, it is asked before each chapter, and a
    word other than go ends the walk there (`Told`): at the run's end the chapters left
    are shared with a fork of this process, not walked by this one alone."""
    from reports.build import chapter_plots
    from reports.load import load_run
    from reports.model import build_report
    from reports.parts import printed as printed_parts
    from reports.parts import segments

    try:
        run = load_run(run_dir)
        report = build_report(run)
        chapters = report.chapters
        done = None
        if modules is not None:
            done = {i for i, sections in enumerate(chapters) if sections[0].module in modules}
        before = printed_parts(run_dir)
        plots = chapter_plots(run, report)

        def before_print(indexes: list[int]) -> object:
            if told is not None and (word := told(0.0)) != GO:
                raise Told(word)
            return plots(indexes)

        for segment in segments(report, run_dir, done, before_print=before_print):
            printed.update(chapters[i][0].module for i in segment.chapters if chapters)
    except Told:
        raise
    except Exception:  # the builder prints it again, and says what is wrong
        return 0
    return len(printed_parts(run_dir) - before)


def _finish(run_dir: Path, printed: set[str], issued: str | None = None) -> int:
    """The session is over: the front and back matter for the minute of issue the
    builder was given too (`issued`; without it they are the builder's: they state that
    minute), then the chapters left from the first forwards, shared with a fork of this
    process (each walks on past the part the other holds: `print_ahead`) while the
    builder writes HTML, JUnit and Allure, then the report's own walk over the parts
    (printing what a wrong guess left) and the report joined; a short report is one
    part, printed whole. This process has WeasyPrint loaded and warm: the builder would
    load it first."""
    from reports.build import PDF
    from reports.load import load_run
    from reports.model import build_report
    from reports.parts import printed as printed_parts
    from reports.parts import printed_whole
    from reports.pdf import print_ahead, print_matter, write_pdf

    ahead = None
    try:
        ready = printed_parts(run_dir)
        run = load_run(run_dir)
        report = build_report(run, issued=issued)
        if issued is None and not printed_whole(report):
            return _print_chapters(run_dir, printed, None)
        if not printed_whole(report):
            ahead = _print_ahead_forked(lambda: print_ahead(run, report, run_dir))
        print_matter(report, run_dir)  # nothing for a report printed whole
        if ahead is not None:  # share the parts left with the copy, not queue behind it
            print_ahead(run, report, run_dir)
        _, keys = write_pdf(
            run, report, run_dir, run_dir / PDF, tidy=False, parts_ready=lambda: _end(ahead)
        )
    except Exception:  # the builder prints what is left, and says what is wrong
        return 0
    finally:
        _end(ahead)
    return len(set(keys) - ready)


def _print_ahead_forked(work: Callable[[], object]) -> int | None:
    """A second printer for the chapters left, made by forking this one: it has WeasyPrint
    loaded and warm, where the builder would load it first (half a second) before it could
    share the parts left. Its pid, or None where it cannot be made. It dies with this
    process, and is ended once every part the report joins is printed (`_end`): what it
    prints on a wrong guess is not joined (`reports.pdf.print_ahead`)."""
    if not hasattr(os, "fork"):
        return None
    parent = os.getpid()
    try:
        pid = os.fork()  # this process has no thread of its own: a fork is safe
    except OSError:
        return None
    if pid:
        return pid
    code = 1
    try:
        _die_with(parent)
        work()
        code = 0
    finally:
        os._exit(code)  # never this process's exit path (atexit, buffers) in the copy


def _die_with(parent: int) -> None:
    """Ask the kernel to kill this process when its parent ends (Linux), so no copy
    prints into the run folder after the report is built."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent ended before the request was made
        os._exit(0)


def _end(pid: int | None) -> None:
    """End the forked printer (its part in hand is not needed) and reap it."""
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _module(record: dict) -> str:
    test = record.get("test")
    return test.split("::")[0] if isinstance(test, str) and "::" in test else ""


def _new_records(path: Path, offset: int) -> tuple[int, list[dict]]:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return offset, []
    end = data.rfind(b"\n") + 1  # only whole lines; a line being written waits
    records = []
    for line in data[:end].splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                records.append(record)
    return offset + end, records


def _draw(run_dir: Path, record: dict) -> int:
    waveform = record.get("waveform")
    if not waveform or not isinstance(waveform, str):
        return 0
    from reports.build import plot_mark, shared_plotter
    from rig.results.waveform import Waveform

    title = plot_title(plan_title(str(record.get("test", ""))), str(record.get("name", "")))
    image = run_dir / plot_path(waveform)
    try:
        data = (run_dir / waveform).read_bytes()
        mark = mark_of(record)
        key = plot_key(title, data, mark)
        if is_fresh(image, key):
            return 0
        shared_plotter().draw(Waveform.from_json(json.loads(data)), image, title, key,
                              plot_mark(mark))  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return 0  # the report builder will try again, and say what is wrong
    return 1


class _Stdin:
    """The words `rig run` sends on this process's stdin; `finish` comes with the
    report's minute of issue (`issued`)."""

    def __init__(self) -> None:
        self.heard = b""
        self.closed = False
        self.issued: str | None = None

    def __call__(self, timeout_s: float) -> str:
        if not self.closed:
            readable, _, _ = select.select([sys.stdin.buffer], [], [], timeout_s)
            if readable:
                chunk = os.read(sys.stdin.fileno(), 4096)
                self.heard += chunk
                self.closed = chunk == b""
        if not self.closed:
            return GO
        if self.heard.startswith(FINISH):
            said = self.heard[len(FINISH) :].split(b"\n")[0].strip()
            self.issued = said.decode("utf-8", "replace") or None
            return FINISHING
        return CHAPTERS if self.heard.startswith(CHAPTERS_ONLY.strip()) else STOP


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m reports.live RUN_DIR", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        # at full priority first: on a busy machine a one-plan run would end before a
        # low-priority import did, and the run's end would wait on it
        warm_up()
        with contextlib.suppress(OSError):
            os.nice(NICE)  # then the run comes first
        follow(Path(argv[0]), _Stdin())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
