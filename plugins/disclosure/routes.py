"""The disclosure plugin's pages: the public catalog (no login) and the publishers' pages."""

from plugins.disclosure.manage_routes import MANAGE_ROUTES
from plugins.disclosure.public_routes import PUBLIC_ROUTES

ROUTES = [*PUBLIC_ROUTES, *MANAGE_ROUTES]
