"""Periodic lists (成果清单 / 应用场景清单): staff freeze the verified results or the published
application scenarios of a period into a snapshot that later changes do not alter."""
