"""Fixflow notify service."""

SERVICE = "notify"
