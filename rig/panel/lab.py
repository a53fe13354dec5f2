"""The lab view: every bench (labgrid place) with who holds it and its current run.

Seam for issue 21: the labgrid places live in `rig.lab` (h21's area). Until that is
there the panel has no lab view and says so (`/api/lab` answers `places: null`). A
class with `places()` returning the list below plugs in without touching the page.
"""

from __future__ import annotations

from typing import Any, Protocol


class LabView(Protocol):
    def places(self) -> list[dict[str, Any]] | None:
        """[{name, holder, run_id, panel_url}], or None when the lab has no coordinator."""
        ...


class NoLab:
    def places(self) -> list[dict[str, Any]] | None:
        return None
