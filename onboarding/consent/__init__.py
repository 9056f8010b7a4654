"""Admin consent (step 3): the state-checked round trip to Microsoft (flow.py), what
its callback records (services.py), and the callback and forwarded-link pages."""
