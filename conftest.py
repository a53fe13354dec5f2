"""Loads the rig pytest plugin for plans and for the framework's own tests."""

pytest_plugins = ["rig.plugin"]
