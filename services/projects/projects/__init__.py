"""Projects: the plan system and every project's life, from call to performance evaluation."""
