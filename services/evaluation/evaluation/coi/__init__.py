"""回避 (conflict-of-interest avoidance): the rules as data, the facts they read, the database's check.

* ``rules``: which rules exist, their defaults and parameters, and what each compares;
* ``facts``: what the rules read of items and experts, loaded set-based (one query per relation);
* ``check``: the rules applied as set operations over those relations, for one pair or a whole round;
* ``trigger``: the same rule set as the database checks it on every write of a live assignment.
"""
