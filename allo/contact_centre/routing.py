from django.urls import path

from allo.contact_centre.consumers import DeskConsumer, TelephonyConsumer, WallboardConsumer

websocket_urlpatterns = [
    path("ws/desk/", DeskConsumer.as_asgi()),
    path("ws/telephony/", TelephonyConsumer.as_asgi()),
    path("ws/wallboard/", WallboardConsumer.as_asgi()),
]
