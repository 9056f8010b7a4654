"""Mailbox checks: asking for one and claiming it (claim.py), its steps (run.py), what
they record (results.py), mailbox and tenant health (health.py, their one writer),
the re-check schedule (schedule.py), and the check pages (views.py, urls.py)."""
