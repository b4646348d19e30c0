"""The engine's campaign runner: SMS campaigns sent through a carrier adapter (outbox or SMPP)."""
