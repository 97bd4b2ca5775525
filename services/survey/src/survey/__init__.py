"""Fixflow survey service."""

SERVICE = "survey"
