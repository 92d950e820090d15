"""Applying and generating Piccolo migrations, core first, then each enabled plugin."""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.forwards import ForwardsMigrationManager
from piccolo.apps.migrations.commands.new import _create_new_migration
from piccolo.conf.apps import AppConfig


class MigrationFailed(RuntimeError):
    pass


async def apply_migrations(apps: list[AppConfig], verbose: bool = False) -> None:
    for app in apps:
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            result = await ForwardsMigrationManager(app_name=app.app_name).run()
        if verbose:
            print(output.getvalue(), end="")
        if not result.success:
            raise MigrationFailed(f"{app.app_name}: {result.message}\n{output.getvalue()}")


async def make_migration(app: AppConfig, description: str = "") -> str:
    """Write a new auto migration for ``app`` from its tables; returns the file's path."""
    meta = await _create_new_migration(app_config=app, auto=True, description=description, auto_input="y")
    return meta.migration_path
