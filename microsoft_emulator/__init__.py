"""A local stand-in for the Microsoft identity platform and Microsoft Graph.

Imports nothing from the portal. Start it with `python -m microsoft_emulator`, or in a
thread with `microsoft_emulator.server.start(ca_dir=...)` (the pytest fixture does).
"""
