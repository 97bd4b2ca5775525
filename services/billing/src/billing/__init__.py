"""Fixflow billing service."""

SERVICE = "billing"
