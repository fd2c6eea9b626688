from django.urls import path

from allo.voice import http, views

urlpatterns = [
    path("api/telephony/sip-accounts", http.sip_accounts, name="api-telephony-sip-accounts"),
    path("api/telephony/agents/<str:agent>/phone", http.phone_state, name="api-telephony-phone"),
    path("api/telephony/prompts", http.recorded_prompts, name="api-telephony-prompts"),
    path("api/telephony/prompts/<str:name>", http.recorded_prompt, name="api-telephony-prompt"),
    path("poste/telephone/", views.phone, name="desk-phone"),
]
