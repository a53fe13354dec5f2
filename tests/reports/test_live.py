"""The live printer: plots and finished chapters made while the run goes, taken by the
report builder as they are, and never a stale one."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

from reports.build import build_reports
from reports.live import GO, STOP, LivePrinter, follow
from reports.load import load_run
from reports.model import build_report
from reports.parts import FOLDER


class _Beside:
    """Where the builder is told a live printer prints beside it (one that is not
    finishing a run: the builder prints a short report itself)."""

    finishing = False


def _until_read(passes: int = 200):
    """A `told` that says go for as long as there are records, then stop."""
    words = iter([GO] * passes)
    return lambda timeout: next(words, STOP) if timeout == 0 else STOP


def test_what_the_live_printer_made_is_what_the_report_uses(tmp_path, make_run):
    run_dir = tmp_path / "20261125T130000-00004"
    make_run(run_dir)
    made = follow(run_dir, _until_read())
    images = sorted((run_dir / "plots").glob("*.jpg"))
    parts = sorted((run_dir / FOLDER).glob("*.pdf"))
    assert len(images) == 5 and made >= 5 + 1  # every plot, and the chapters in groups
    before = {p: p.stat().st_mtime_ns for p in images}
    assert follow(run_dir, _until_read()) == 0  # nothing left to make
    result = build_reports(run_dir, junit=False, allure=False)
    # every group of chapters the live printer made is joined as it is; the front and back
    # matter (or a group they join because a page would stand nearly empty) are new
    assert result.parts_earlier >= result.parts - 3 and result.parts_earlier >= 1
    assert {p.name for p in parts} >= set()
    assert sorted(result.plots) == images
    assert {p: p.stat().st_mtime_ns for p in images} == before  # none drawn again
    assert not (run_dir / FOLDER).exists()  # joined: the parts are gone


def test_a_chapter_is_printed_once_its_module_has_ended(tmp_path, make_run):
    """Mid-run, the module still running gets no chapter: its plans may still grow."""
    run_dir = tmp_path / "20261125T130000-00005"
    make_run(run_dir)
    store = run_dir / "results.jsonl"
    lines = store.read_text().splitlines(keepends=True)
    modules, cut = [], len(lines)
    for i, line in enumerate(lines):
        test = json.loads(line).get("test")
        module = test.split("::")[0] if isinstance(test, str) and "::" in test else None
        if module and module not in modules:
            modules.append(module)
            if len(modules) == 3:  # the third module has begun: two have ended
                cut = i + 1
                break
    store.write_text("".join(lines[:cut]))
    follow(run_dir, _until_read())
    early = len(list((run_dir / FOLDER).glob("*.pdf")))
    assert early >= 1  # the first chapter, or the first two together
    store.write_text("".join(lines))  # the run goes on and ends
    result = build_reports(run_dir, junit=False, allure=False)
    assert result.parts_earlier >= 1


def test_a_part_whose_plans_changed_is_printed_anew(tmp_path, make_run):
    """A part is filed under its own content: what the store says now, never what it said."""
    run_dir = tmp_path / "20261125T130000-00006"
    make_run(run_dir)
    follow(run_dir, _until_read())  # chapters printed from the store as it was
    store = run_dir / "results.jsonl"
    records = [json.loads(line) for line in store.read_text().splitlines()]
    changed = next(r for r in records if r.get("type") == "measurement")
    changed["value"] = 2.0625
    store.write_text("".join(json.dumps(r) + "\n" for r in records))
    stale = {p.name for p in (run_dir / FOLDER).glob("*.pdf")}
    result = build_reports(run_dir, junit=False, allure=False)
    assert result.parts_earlier < len(stale)  # the changed chapter's group printed anew
    assert "2.062" in " ".join(p.extract_text() for p in PdfReader(result.pdf).pages)
    assert not (run_dir / FOLDER).exists()


def test_the_child_stops_when_asked(tmp_path):
    live = LivePrinter.start(tmp_path / "not-yet-written")
    assert live is not None
    live.stop(timeout_s=30)
    assert live.proc.returncode == 0


def test_the_child_finishes_when_told_and_exits(tmp_path, make_run):
    """Told to finish with the minute of issue, the child prints everything left, the
    front and back matter included, and joins the report; the builder, stating the same
    minute, finds every part printed and the report joined from them, and keeps it."""
    run_dir = tmp_path / "20261125T130000-00007"
    make_run(run_dir)
    live = LivePrinter.start(run_dir)
    assert live is not None
    live.finish()
    assert live.issued
    assert live.proc.wait(timeout=120) == 0
    joined = run_dir / "report.pdf"
    assert joined.exists()
    stamp = joined.stat().st_mtime_ns
    result = build_reports(run_dir, junit=False, allure=False, helper=live)
    assert result.parts_earlier == result.parts  # nothing printed twice
    assert joined.stat().st_mtime_ns == stamp  # nor joined twice
    assert live.issued in " ".join(p.extract_text() for p in PdfReader(joined).pages[:2])
    assert not (run_dir / FOLDER).exists()


def test_told_chapters_it_prints_the_chapters_only(tmp_path, make_run):
    """`rig report` may sign the front and back matter: those and the joining stay the
    builder's; the helper prints the chapters and nothing else."""
    run_dir = tmp_path / "20261125T130000-00008"
    make_run(run_dir)
    chapters = len(build_report(load_run(run_dir)).chapters)
    live = LivePrinter.start(run_dir)
    assert live is not None
    live.print_chapters()
    assert live.proc.wait(timeout=120) == 0
    assert 1 <= len(list((run_dir / FOLDER).glob("*.pdf"))) <= 2 * chapters
    assert not (run_dir / "report.pdf").exists()


def test_a_short_report_is_printed_whole_in_one_part(tmp_path, make_run):
    """A few plans' report: one part at the end, nothing printed, measured or joined twice."""
    from reports.parts import WHOLE_BELOW

    run_dir = tmp_path / "20261125T130000-00009"
    make_run(run_dir, killed=True)  # three plans
    assert len(build_report(load_run(run_dir)).ran) < WHOLE_BELOW
    assert follow(run_dir, _until_read()) >= 2  # its plots, and no part
    assert not list((run_dir / FOLDER).glob("*.pdf"))
    result = build_reports(run_dir, junit=False, allure=False)
    assert result.parts == 1 and result.pages >= 3


def test_the_builder_prints_ahead_of_the_part_the_live_printer_holds(
    tmp_path, make_run, monkeypatch
):
    """Beside a live printer holding a part, the builder does not wait on it: it walks on
    as if that part's last page stood full enough and prints the parts after it; where
    the guess holds, the report's own walk finds them printed."""
    import fcntl

    from reports import parts
    from reports.build import draw_plots
    from reports.parts import group_part, page_note, segments

    run_dir = tmp_path / "20261125T130000-00010"
    make_run(run_dir)
    run = load_run(run_dir)
    report = build_report(run)
    draw_plots(run, report.plans)  # as the builder has before it prints
    assert len(report.chapters) >= 3
    written: list[str] = []
    write = parts._write
    monkeypatch.setattr(
        parts, "_write", lambda part, d, path: (written.append(part.name), write(part, d, path))
    )
    first = group_part(report, [0], front=False, back=False)
    first.path(run_dir).parent.mkdir()
    with first.path(run_dir).with_suffix(".lock").open("a") as held:  # the live printer's
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        segments(report, run_dir, back=True, ahead=True)
    assert not first.path(run_dir).exists() and first.name not in written
    ahead = list(written)
    assert len(ahead) >= 2 and "back matter" in ahead[-1]
    written.clear()
    walked = segments(report, run_dir, back=True)  # the report's walk, waiting on nothing now
    assert page_note(first.path(run_dir)).fill >= parts.MIN_FILL  # the guess held here
    assert written == [first.name]  # everything after it was printed ahead
    assert {s.part.name for s in walked[1:]} <= set(ahead)
    result = build_reports(run_dir, junit=False, allure=False, helper=_Beside())
    assert result.parts_earlier >= len(walked) and not (run_dir / FOLDER).exists()


def test_the_forked_printer_is_ended_and_reaped(tmp_path):
    """The copy that prints ahead at the end of a run: its work runs in a process of its
    own, and `_end` stops it where it is (its part in hand is not needed) and reaps it."""
    import os

    from reports.live import _end, _print_ahead_forked

    told, tell = os.pipe()  # the copy says it runs on one, waits on the other for ever
    hold, held = os.pipe()
    pid = _print_ahead_forked(lambda: (os.write(tell, b"x"), os.read(hold, 1)))
    assert pid is not None and pid != os.getpid()
    assert os.read(told, 1) == b"x"  # it runs, in the copy
    _end(pid)
    for fd in (told, tell, hold, held):
        os.close(fd)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left
    _end(None)


def test_the_forked_printer_dies_with_its_parent(tmp_path):
    """No copy prints into the run folder after the live printer is gone (killed, or
    ended by `rig run` once the report is built)."""
    import os
    import subprocess
    import sys
    import time

    script = (
        "import os, sys, time\n"
        "from reports.live import _print_ahead_forked\n"
        "r, w = os.pipe()\n"
        "pid = _print_ahead_forked(lambda: (os.write(w, b'x'), time.sleep(600)))\n"
        "os.read(r, 1)\n"  # the copy is at its work
        "open(sys.argv[1], 'w').write(str(pid))\n"
        "os._exit(0)\n"  # the parent ends without reaping or ending it
    )
    said = tmp_path / "pid"
    subprocess.run(  # no pipe the copy would hold open: the run ends with the parent
        [sys.executable, "-c", script, str(said)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
        check=True,
    )
    pid = int(said.read_text())
    deadline = time.monotonic() + 60  # generous: only that it goes, not how fast
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().split(") ")[1].startswith("Z"):  # a zombie of init's: gone
                return
        time.sleep(0.05)  # real time: waiting on another process, not measuring
    pytest.fail(f"the forked printer {pid} outlived its parent")


def test_a_word_heard_between_two_chapters_ends_the_walk_there(tmp_path, make_run):
    """At the run's end the chapters left are shared with a fork of the live printer:
    a walk over them asks between chapters, and stops where it is told to."""
    run_dir = tmp_path / "20261125T130000-00011"
    make_run(run_dir)
    chapters = len(build_report(load_run(run_dir)).chapters)
    assert chapters >= 3

    def told(timeout_s: float) -> str:
        return STOP if list((run_dir / FOLDER).glob("*.pdf")) else GO

    follow(run_dir, told)
    assert 1 <= len(list((run_dir / FOLDER).glob("*.pdf"))) < chapters - 1
