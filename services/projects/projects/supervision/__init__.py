"""Supervision of running projects: staff's annual spot checks (抽查)."""
