"""Registry: the department's book of record of who and what exists."""
