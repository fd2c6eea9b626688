from django.urls import path

from allo.contact_centre.consumers import DeskConsumer, TelephonyConsumer, WallboardConsumer

websocket_urlpatterns = [
    path("ws/desk/", DeskConsumer.as_asgi()),
    path("ws/telephony/", TelephonyConsumer.as_asgi()),
    path("ws/wallboard/", WallboardConsumer.as_asgi()),
]
# clients that sign in with an API token, not a browser's session: no Origin needed (allo/web/ws_origin.py)
token_paths = ["/ws/telephony/"]
