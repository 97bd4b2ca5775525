"""Fixflow dispatch service."""

SERVICE = "dispatch"
