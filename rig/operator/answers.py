"""The one answer channel: a file per prompt in the run folder, the first answer wins.

A prompt of a run is answered by writing `runs/<run-id>/answers/<prompt>.json`. Whoever
answers (the terminal the run was started from, the panel, `rig answer`, a test) goes
through `post_answer`, which writes the answer whole to a temporary file and then links
it to its name: the link fails if the name exists, so of two answers given at once
exactly one is taken and the other is told it came second. The run only ever reads the
folder, so it depends on no panel or other process being there.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ANSWERS = "answers"
CHOICES = ("done", "declined")
_PROMPT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Answer:
    prompt: str
    answer: str  # done | declined
    by: str  # who answered, as they gave their name
    via: str  # terminal | panel | cli | test
    at: float  # time.time() of the answer


def _path(run_dir: Path, prompt: str) -> Path:
    if not _PROMPT_ID.match(prompt):
        raise ValueError(f"not a prompt id: {prompt!r}")
    return run_dir / ANSWERS / f"{prompt}.json"


def post_answer(run_dir: Path, prompt: str, answer: str, by: str, via: str) -> bool:
    """Answer `prompt` of the run in `run_dir`; False if it was answered already."""
    if answer not in CHOICES:
        raise ValueError(f"answer must be one of {CHOICES}, got {answer!r}")
    by = " ".join(str(by).split())[:80]
    if not by:
        raise ValueError("an answer needs the name of who gives it")
    target = _path(run_dir, prompt)
    target.parent.mkdir(parents=True, exist_ok=True)
    record = Answer(prompt, answer, by, via, time.time())
    tmp = target.parent / f".{prompt}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, json.dumps(asdict(record)).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, target)  # atomic, and refused when an answer is there already
        return True
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def read_answer(run_dir: Path, prompt: str) -> Answer | None:
    """The answer given to `prompt`, or None while there is none."""
    try:
        data = json.loads(_path(run_dir, prompt).read_text())
    except FileNotFoundError:
        return None
    return Answer(
        prompt=str(data["prompt"]),
        answer=str(data["answer"]),
        by=str(data["by"]),
        via=str(data["via"]),
        at=float(data["at"]),
    )
