"""The physical side of the simulated lab: cells and the bench circuit."""

from simlab.physics.bench import Bench, BenchParams, BenchState
from simlab.physics.lfp import LfpCell, LfpParams, make_cells, ocv

__all__ = ["Bench", "BenchParams", "BenchState", "LfpCell", "LfpParams", "make_cells", "ocv"]
