"""URLs of supervision and assessment (cases.views_supervision), added to cases/urls.py."""

from django.urls import path

from . import views_supervision as views

urlpatterns = [
    path("supervision/", views.risks, name="supervision_risks"),
    path("supervision/responsibilities/", views.responsibilities, name="supervision_responsibilities"),
    path("supervision/tasks/", views.tasks, name="supervision_tasks"),
    path("supervision/orders/", views.orders, name="supervision_orders"),
    path("supervision/orders/<int:pk>/", views.order_detail, name="supervision_order"),
    path("supervision/assessment/", views.assessment_ranking, name="assessment"),
    path("supervision/assessment/events/", views.assessment_events, name="assessment_events"),
    path("supervision/assessment/weights/", views.assessment_weights, name="assessment_weights"),
    path("<int:pk>/supervision/", views.case_supervision, name="case_supervision"),
    path("<int:pk>/supervise/", views.supervise, name="supervise"),
    path("<int:pk>/instruct/", views.instruct, name="instruct"),
]
