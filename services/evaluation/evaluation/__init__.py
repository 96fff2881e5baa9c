"""Evaluation: experts and judgement: reviews, assignments and assessments."""
