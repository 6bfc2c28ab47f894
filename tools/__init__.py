"""Maintenance scripts for the course repository (run them from the repository root)."""
