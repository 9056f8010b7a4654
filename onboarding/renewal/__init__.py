"""Renewing a client secret without downtime: the workflow and its pages."""
