"""The SDK's version; `scripts/build --dev` stamps a dev version here for a build only."""

__version__ = "0.1.0"
