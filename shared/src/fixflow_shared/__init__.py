"""Fixflow's shared library. Services import only themselves and this package."""
