"""Typer sub-apps, one per noun. Thin: parse, call a service, render."""
