"""Administration pages: units, departments, users, roles, plugins, audit log."""
