"""Test support: real PostgreSQL and real NATS, started by the project or taken from the env."""
