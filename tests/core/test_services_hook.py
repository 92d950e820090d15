"""register_services: network services start and stop with the application."""

from types import ModuleType

from litestar.testing import AsyncTestClient

from portal.api import Service
from portal.hookspecs import hookimpl


def _plugin_with_service(events: list) -> ModuleType:
    module = ModuleType("listener")

    async def start(portal):
        events.append("started")

        async def stop():
            events.append("stopped")

        return stop

    @hookimpl
    def register_services(portal):
        return [Service("listener", start)]

    module.register_services = register_services
    return module


async def test_service_starts_and_stops_with_the_app(make_app):
    events: list = []
    app = make_app(plugins=[], plugin_modules={"listener": _plugin_with_service(events)}, services=True)
    async with AsyncTestClient(app):
        assert events == ["started"]
    assert events == ["started", "stopped"]


async def test_services_stay_off_when_the_setting_says_so(make_app):
    events: list = []
    app = make_app(plugins=[], plugin_modules={"listener": _plugin_with_service(events)}, services=False)
    async with AsyncTestClient(app):
        pass
    assert events == []
