"""Operator steps: the answer channel (first answer wins) and the run's side of a prompt."""

from __future__ import annotations

import threading
import time

import pytest

from rig.operator import OperatorStepNotDone, Prompter, post_answer, read_answer


def test_first_answer_wins_and_the_second_is_told(tmp_path):
    assert post_answer(tmp_path, "p1-cover", "done", "Ada", "panel")
    assert not post_answer(tmp_path, "p1-cover", "declined", "Bob", "terminal")
    answer = read_answer(tmp_path, "p1-cover")
    assert (answer.answer, answer.by, answer.via) == ("done", "Ada", "panel")
    assert [p.name for p in (tmp_path / "answers").iterdir()] == ["p1-cover.json"]


def test_many_answers_at_once_one_taken(tmp_path):
    results: list[bool] = []
    threads = [
        threading.Thread(
            target=lambda n=n: results.append(post_answer(tmp_path, "p2-x", "done", f"op{n}", "t"))
        )
        for n in range(16)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1


@pytest.mark.parametrize(
    ("prompt", "answer", "by", "match"),
    [
        ("../../etc/passwd", "done", "x", "not a prompt id"),
        ("p1-a", "maybe", "x", "answer must be"),
        ("p1-a", "done", "  ", "needs the name"),
    ],
)
def test_bad_answers_are_refused(tmp_path, prompt, answer, by, match):
    with pytest.raises(ValueError, match=match):
        post_answer(tmp_path, prompt, answer, by, "cli")


def prompter(tmp_path, records):
    return Prompter(tmp_path, records.append, lambda text: None)


def test_a_prompt_is_recorded_answered_and_who_answered(tmp_path):
    records: list[dict] = []

    def answer_soon():
        deadline = time.monotonic() + 5
        while not records and time.monotonic() < deadline:
            time.sleep(0.01)
        post_answer(tmp_path, records[0]["prompt"], "done", "Ada Lovelace", "panel")

    threading.Thread(target=answer_soon).start()
    got = prompter(tmp_path, records).ask("cover", "Close the safety cover", 10.0, "t::x")
    assert got.by == "Ada Lovelace"
    prompt, result = records
    assert prompt["type"] == "prompt" and prompt["text"] == "Close the safety cover"
    assert prompt["prompt"] == "p1-cover" and prompt["timeout_s"] == 10.0
    assert result["type"] == "prompt_result" and result["outcome"] == "answered"
    assert (result["answer"], result["by"], result["via"]) == ("done", "Ada Lovelace", "panel")


def test_an_unanswered_prompt_times_out(tmp_path):
    records: list[dict] = []
    with pytest.raises(OperatorStepNotDone, match=r"not answered within 0\.2 s"):
        prompter(tmp_path, records).ask("harness", "Connect the harness", 0.2)
    assert records[-1]["outcome"] == "timeout" and records[-1]["waited_s"] >= 0.2


def test_a_declined_step_is_not_done(tmp_path):
    records: list[dict] = []
    post_answer(tmp_path, "p1-harness", "declined", "Bob", "cli")  # answered before it is asked
    with pytest.raises(OperatorStepNotDone, match="declined by Bob"):
        prompter(tmp_path, records).ask("harness", "Connect the harness", 5.0)
    assert records[-1]["answer"] == "declined"


def test_rig_answer_posts_through_the_channel(tmp_path):
    import subprocess
    import sys

    run = tmp_path / "run"
    run.mkdir()
    (run / "results.jsonl").write_text("")
    cmd = [sys.executable, "-m", "rig", "answer", str(run), "p1-cover", "--by", "Grace"]
    first = subprocess.run(cmd, capture_output=True, text=True, check=False)
    second = subprocess.run(cmd, capture_output=True, text=True, check=False)
    bad = subprocess.run([*cmd[:4], str(tmp_path), "p1-cover", "--by", "x"], capture_output=True,
                         text=True, check=False)  # fmt: skip
    assert (first.returncode, second.returncode, bad.returncode) == (0, 1, 2)
    assert "answered already" in second.stdout and "not a run folder" in bad.stdout
    assert read_answer(run, "p1-cover").via == "cli"
