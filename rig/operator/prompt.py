"""The run's side of a manual step: ask, wait for the first answer, record who gave it.

A prompt is a `prompt` record in the results store (so the panel shows it, and a report
can tell it), a line on the console, and a wait for `runs/<id>/answers/<prompt>.json`
(`rig.operator.answers`). When the run was started from a terminal, a line typed there
answers too: it is posted through the same channel, so the terminal and the panel race
on equal terms and the first answer wins. The outcome is a `prompt_result` record: the
answer, who gave it and through what, or `timeout`.

Time: a prompt waits for a person, so it waits on the wall clock, also against simlab.
The run's clock is not advanced meanwhile: the simulated bench stands still while the
operator works (its outputs are in the safe state at every prompt the station declares).
On a bench the instruments' own watchdogs keep running; the safe state is what they see.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rig.operator.answers import Answer, post_answer, read_answer

POLL_S = 0.1  # real time: how often the answers folder is looked at while a person works
YES = {"", "y", "yes", "done", "ok"}
NO = {"n", "no", "declined", "decline"}


class OperatorStepNotDone(Exception):
    """A manual step was declined or not answered in time: what needed it cannot go on."""


class Prompter:
    def __init__(
        self,
        run_dir: Path,
        record: Callable[[dict[str, Any]], None],
        show: Callable[[str], None],
        terminal: bool = False,
        login: str = "",
    ):
        self.run_dir, self.record, self.show = run_dir, record, show
        self.terminal, self.login = terminal, login or "operator"
        self.count = 0

    def ask(self, step: str, text: str, timeout_s: float, test: str | None = None) -> Answer:
        """Ask and wait; the answer if `done`, else OperatorStepNotDone (declined, timeout)."""
        self.count += 1
        prompt = f"p{self.count}-{step}"
        started = time.monotonic()
        self.record(
            {
                "type": "prompt",
                "prompt": prompt,
                "step": step,
                "text": text,
                "test": test,
                "timeout_s": timeout_s,
                "choices": ["done", "declined"],
            }
        )
        tty = self._open_tty()
        how = "type y (done) or n (declined) and Enter here, or " if tty is not None else ""
        self.show(
            f"OPERATOR STEP: {text}\n  {how}answer in the panel "
            f"(prompt {prompt}); waiting {timeout_s:g} s"
        )
        try:
            answer = self._wait(prompt, started + timeout_s, tty)
        except KeyboardInterrupt:  # a stop (Ctrl-C, the panel) or the interlock: closed
            self.record(
                {
                    "type": "prompt_result",
                    "prompt": prompt,
                    "step": step,
                    "test": test,
                    "outcome": "interrupted",
                    "waited_s": round(time.monotonic() - started, 3),
                }
            )
            raise
        finally:
            if tty is not None:
                os.close(tty)
        waited = round(time.monotonic() - started, 3)
        if answer is None:
            self.record(
                {
                    "type": "prompt_result",
                    "prompt": prompt,
                    "step": step,
                    "test": test,
                    "outcome": "timeout",
                    "waited_s": waited,
                }
            )
            self.show(f"OPERATOR STEP not answered within {timeout_s:g} s: {text}")
            raise OperatorStepNotDone(
                f"operator step {step!r} not answered within {timeout_s:g} s: {text}"
            )
        self.record(
            {
                "type": "prompt_result",
                "prompt": prompt,
                "step": step,
                "test": test,
                "outcome": "answered",
                "answer": answer.answer,
                "by": answer.by,
                "via": answer.via,
                "answered_at": answer.at,
                "waited_s": waited,
            }
        )
        self.show(f"  {answer.answer} ({answer.by}, {answer.via})")
        if answer.answer != "done":
            raise OperatorStepNotDone(
                f"operator step {step!r} declined by {answer.by} ({answer.via}): {text}"
            )
        return answer

    def _wait(self, prompt: str, deadline: float, tty: int | None) -> Answer | None:
        while True:
            answer = read_answer(self.run_dir, prompt)
            if answer is not None:
                return answer
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            wait = min(POLL_S, left)
            if tty is None:
                time.sleep(wait)  # real time: a person is working, not the bench
                continue
            ready, _, _ = select.select([tty], [], [], wait)  # real time, as above
            if ready:
                self._typed(prompt, os.read(tty, 1024))

    def _typed(self, prompt: str, raw: bytes) -> None:
        word = raw.decode("utf-8", "replace").strip().lower()
        if word in YES or word in NO:
            post_answer(self.run_dir, prompt, "done" if word in YES else "declined",
                        self.login, "terminal")  # fmt: skip
        else:
            self.show("  y (done) or n (declined), then Enter")

    def _open_tty(self) -> int | None:
        """The controlling terminal, when the run was started from one (pytest has put
        /dev/null on the standard input by now, so it is opened by name)."""
        if not self.terminal:
            return None
        with contextlib.suppress(OSError):
            return os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        return None
