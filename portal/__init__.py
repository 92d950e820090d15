"""The e-government portal core: accounts, login, plugins, web shell, administration."""

__version__ = "0.1.0"
