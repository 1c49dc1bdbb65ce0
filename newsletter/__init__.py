"""newsletter: build a newsroom's weekly email from its article files, preview it, export it."""

__version__ = "0.1.0"
