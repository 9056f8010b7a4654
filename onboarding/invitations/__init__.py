"""Invitations: support invites a tenant admin, who accepts with a single-use link."""
