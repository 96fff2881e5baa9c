"""HTTP plumbing shared by every service: problems, request ids, auth, health, metrics."""
