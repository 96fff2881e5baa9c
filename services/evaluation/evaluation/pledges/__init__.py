"""Reviewers' integrity and confidentiality pledge (诚信和保密承诺), signed per round before any
application or score sheet of the round is shown."""
