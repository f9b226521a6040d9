from django.urls import path

from . import views

app_name = "petitions"

urlpatterns = [
    path("", views.petition_list, name="list"),
    path("new/", views.petition_register, name="register"),
    path("<int:pk>/", views.petition_detail, name="detail"),
    path("<int:pk>/act/<slug:action>/", views.petition_act, name="act"),
    path("<int:pk>/documents/<slug:kind>/", views.petition_document, name="document"),
    path("<int:pk>/issued/<int:doc_pk>.pdf", views.petition_document_pdf, name="document_pdf"),
]

urlpatterns += [
    path("fusion/", views.fusion_review, name="fusion"),
    path("fusion/<int:pk>/decide/", views.fusion_decide, name="fusion_decide"),
    path("repeat-callers/", views.repeat_callers, name="repeat_callers"),
]

urlpatterns += [
    path("imports/", views.import_page, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/samples/<slug:source>/", views.import_sample, name="import_sample"),
]
