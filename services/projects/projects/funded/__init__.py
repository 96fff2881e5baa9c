"""The funded project (立项项目): an approved or filed project from its task book to the final
verdict — money, reports, changes, evaluations, 赛马制 rounds and its timeline."""
