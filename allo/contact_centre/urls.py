from django.urls import path

from allo.contact_centre.desks import fiche_panel
from allo.contact_centre.desks import views as desks
from allo.contact_centre.supervision import views as supervision
from allo.contact_centre.telephony import http as telephony

urlpatterns = [
    path("api/openapi.json", telephony.openapi, name="api-openapi"),
    path("api/telephony/calls", telephony.calls, name="api-telephony-calls"),
    path("api/telephony/calls/<str:call_id>", telephony.call_detail, name="api-telephony-call"),
    path("api/telephony/calls/<str:call_id>/hangup", telephony.hangup, name="api-telephony-hangup"),
    path("api/telephony/calls/<str:call_id>/alive", telephony.alive, name="api-telephony-alive"),
    path("api/telephony/calls/<str:call_id>/lost", telephony.lost, name="api-telephony-lost"),
    path("api/telephony/calls/<str:call_id>/callback-answer", telephony.callback_answer,
         name="api-telephony-callback-answer"),
    path("api/telephony/calls/<str:call_id>/no-answer", telephony.no_answer, name="api-telephony-no-answer"),
    path("api/telephony/calls/<str:call_id>/consult-left", telephony.consult_left, name="api-telephony-consult-left"),
    path("api/supervision/live", supervision.live, name="api-supervision-live"),
    path("supervision/plateau/", supervision.floor, name="supervision-floor"),
    path("supervision/plateau/action/", supervision.floor_action, name="supervision-floor-action"),
    path("poste/etat/", desks.set_state, name="desk-state"),
    path("poste/appels/<str:call_id>/fin/", desks.end_call, name="desk-end-call"),
    path("poste/appels/<str:call_id>/consultation/", desks.consult, name="desk-consult"),
    path("poste/appels/<str:call_id>/consultation/fin/", desks.consult_end, name="desk-consult-end"),
    path("poste/cloture/fiches/", desks.wrapup_fiches, name="desk-wrapup-fiches"),
    path("poste/base/recherche/", fiche_panel.search, name="desk-kb-search"),
    path("poste/base/fiches/<slug:fiche_id>/", fiche_panel.fiche, name="desk-fiche"),
    path("poste/base/themes/<slug:slug>/", fiche_panel.node, name="desk-node"),
]
