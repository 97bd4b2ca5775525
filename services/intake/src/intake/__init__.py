"""Fixflow intake service."""

SERVICE = "intake"
