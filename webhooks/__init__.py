"""Signed webhooks (Standard Webhooks): an outbox written in the same transaction as the
change that causes an event, and its delivery with retries. Below onboarding: it knows
event types and plain payloads, not the portal's models."""
