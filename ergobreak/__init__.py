"""ergobreak: a break scheduler driven by desk-session time."""

__version__ = "0.1.0"
