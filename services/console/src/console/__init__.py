"""Fixflow console: the staff web application, a backend-for-frontend over the five services' APIs."""

SERVICE = "console"
