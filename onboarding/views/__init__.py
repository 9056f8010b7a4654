"""The customer-facing wizard, one module per concern."""
