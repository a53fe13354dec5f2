"""The rig pytest plugin: options, markers, fixtures and the safe-state hooks.

Loaded by the repository's conftest.py and by `rig run` (`-p rig.plugin`). Nothing is
opened until a plan asks for a rig fixture, so the framework's own tests run without a
station.
"""

from rig.plugin.fixtures import *  # noqa: F403
from rig.plugin.hooks import *  # noqa: F403
