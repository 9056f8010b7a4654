"""Vendor mode: the vendor's own multi-tenant app, which a customer's admin consents to
instead of registering an app, and the one credential it signs in with everywhere."""
