"""ringtui: a terminal-first operations tool for a hosted PBX / contact center."""

__version__ = "0.1.0"
