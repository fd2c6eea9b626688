from django.urls import path

from allo.voice import http, views

urlpatterns = [
    path("api/telephony/sip-accounts", http.sip_accounts, name="api-telephony-sip-accounts"),
    path("api/telephony/agents/<str:agent>/phone", http.phone_state, name="api-telephony-phone"),
    path("poste/telephone/", views.phone, name="desk-phone"),
]
