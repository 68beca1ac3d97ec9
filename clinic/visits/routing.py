from django.urls import path

from clinic.visits.consumers import VisitConsumer

websocket_urlpatterns = [path("ws/visits/<uuid:booking_id>/", VisitConsumer.as_asgi())]
