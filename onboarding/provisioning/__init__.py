"""Registering the customer's app for the admin: the portal's plan, the Graph calls and
the PowerShell script."""
