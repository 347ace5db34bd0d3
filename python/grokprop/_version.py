"""The single source of grokprop's version (read by the build via a regex)."""

__version__ = "0.1.0"
