"""The onboarding wizard: one view per step of the guide (views.py), their forms and
input checks, and saving each step (services.py)."""
