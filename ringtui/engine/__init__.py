"""The routing engine: a pure core (core/) driven by an injected clock, and the
adapters around it (recorder, feed, webhooks, simulator, SIP)."""
