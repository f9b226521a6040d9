from django.urls import path

from . import urls_supervision, views, views_audit

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("queue/", views.queue, name="queue"),
    path("new/", views.create, name="create"),
    path("export/", views.export, name="export"),
    path("exports/<str:token>/", views.export_download, name="export_download"),
    path("audit/", views_audit.audit_log, name="audit"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox_read"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/act/<slug:action>/", views.act, name="act"),
    path("<int:pk>/comment/", views.comment, name="comment"),
    path("<int:pk>/attachments/", views.attach, name="attach"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment, name="attachment"),
    path("<int:pk>/reveal/", views.reveal, name="reveal"),
    path("<int:pk>/package/", views.package, name="package"),
    path("<int:pk>/meeting/", views.meeting, name="meeting"),
]

urlpatterns += urls_supervision.urlpatterns  # 督办、三色三单、季考评 (cases.views_supervision)
