"""The ${{ values.name }} library. What ``__all__`` names is its public API; everything else,
modules with a leading underscore included, may change in any release."""

from importlib.metadata import version

__all__ = ["__version__"]

__version__ = version("${{ values.name }}")
