"""The built-in plugins. Each is registered through the ``portal.plugins`` entry-point group,
exactly like a third-party plugin, and uses only the public hooks and modules."""
