"""pavedroad: an internal developer platform with a Backstage-compatible catalog."""

__version__ = "0.1.0"
