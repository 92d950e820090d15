"""The audit log of administrator actions."""
