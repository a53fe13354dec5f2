"""The results store: one JSON line per fact, written and synced as it happens."""

from rig.results.store import ResultsStore, new_run_id, read_records
from rig.results.verdict import RunSummary, RunVerdict, summarize_records
from rig.results.waveform import Waveform, read_waveform, write_waveform

__all__ = [
    "ResultsStore",
    "RunSummary",
    "RunVerdict",
    "Waveform",
    "new_run_id",
    "read_records",
    "read_waveform",
    "summarize_records",
    "write_waveform",
]
