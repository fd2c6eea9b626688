"""WebSocket routes (live push to desks and wallboard), gathered from each capability."""

from allo.contact_centre.routing import token_paths as contact_centre_token_paths
from allo.contact_centre.routing import websocket_urlpatterns as contact_centre_ws

websocket_urlpatterns: list = [*contact_centre_ws]
token_paths: list[str] = [*contact_centre_token_paths]  # token-authenticated: no Origin needed
