"""Pure routing state and decisions: no I/O, time from an injected clock."""
