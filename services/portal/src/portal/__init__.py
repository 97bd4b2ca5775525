"""Fixflow portal: customers' self-service pages and the technicians' mobile app, a
backend-for-frontend over the five services' public APIs, facing the internet."""

SERVICE = "portal"
