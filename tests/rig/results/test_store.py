"""The results store: appended line by line, readable after a kill mid-write."""

import json
import os
import subprocess
import sys
import textwrap

from rig.results import ResultsStore, read_records


def test_records_round_trip(tmp_path):
    store = ResultsStore(tmp_path / "run1")
    store.write({"type": "run_start", "run_id": "run1"})
    store.write({"type": "measurement", "name": "x", "value": 1.5})
    store.close()
    records = read_records(tmp_path / "run1")
    assert [r["type"] for r in records] == ["run_start", "measurement"]
    assert all("at" in r for r in records)


def test_torn_last_line_is_skipped(tmp_path):
    store = ResultsStore(tmp_path)
    store.write({"type": "measurement", "value": 1})
    store.close()
    with open(tmp_path / "results.jsonl", "a") as f:
        f.write('{"type": "measurement", "val')
    assert len(read_records(tmp_path)) == 1


def test_killed_writer_leaves_every_written_line(tmp_path):
    """A process SIGKILLed after N writes leaves N readable records."""
    code = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from rig.results import ResultsStore
        store = ResultsStore(Path({str(tmp_path)!r}))
        for i in range(25):
            store.write({{"type": "measurement", "i": i}})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=os.getcwd(), check=False)
    assert proc.returncode == -9
    records = read_records(tmp_path)
    assert [r["i"] for r in records] == list(range(25))
    json.dumps(records)


def test_flush_returns_once_every_record_is_fsynced(tmp_path, monkeypatch):
    """The plan's thread does not wait for the disk; `flush` (and `close`) does: the last
    fsync it waits for covers every byte written before it was called."""
    import rig.results.store as store_module

    synced_sizes: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        size = os.fstat(fd).st_size
        real_fsync(fd)
        synced_sizes.append(size)

    monkeypatch.setattr(store_module.os, "fsync", fsync)
    store = ResultsStore(tmp_path)
    for i in range(200):
        store.write({"type": "measurement", "i": i})
    store.flush()
    assert synced_sizes and synced_sizes[-1] == (tmp_path / "results.jsonl").stat().st_size
    assert len(synced_sizes) <= 200  # records that came faster than the disk share one
    store.write({"type": "run_end"})
    store.close()
    assert synced_sizes[-1] == (tmp_path / "results.jsonl").stat().st_size
    assert [r.get("i") for r in read_records(tmp_path)][-2:] == [199, None]
