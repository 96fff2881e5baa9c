"""Innovation platforms as projects knows them: which key lab or centre undertakes a project."""
