"""Regenerative two-quadrant sources: battery simulators, and chargers and loads in one."""
