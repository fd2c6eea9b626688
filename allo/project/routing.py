"""WebSocket routes (live push to desks and wallboard), gathered from each capability."""

websocket_urlpatterns: list = []
