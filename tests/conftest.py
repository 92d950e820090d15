"""Fixtures come from the ``portal.testing`` pytest plugin (the same ones plugin authors use)."""
