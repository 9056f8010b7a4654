"""Least privilege: the app limited to the mailboxes it serves, through Exchange
Online's RBAC for Applications."""
