"""Expiry reminders: the daily scan that claims them (scan.py), sending each exactly once
(dispatch.py), and support's daily digest (digest.py)."""
