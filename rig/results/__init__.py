"""The results store: one JSON line per fact, written and synced as it happens."""

from rig.results.store import ResultsStore, new_run_id, read_records

__all__ = ["ResultsStore", "new_run_id", "read_records"]
