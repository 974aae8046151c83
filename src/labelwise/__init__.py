"""labelwise: self-hosted data labeling with the whole quality workflow."""

__version__ = "0.1.0"
