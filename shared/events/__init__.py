"""Events between services: envelope, outbox relay, inbox consumer, streams, admin."""
