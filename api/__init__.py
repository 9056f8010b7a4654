"""The operations app's API (/api/v1/): service keys, connections, mail tokens on
demand, the legacy credential hand-off and webhook endpoints."""
