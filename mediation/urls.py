from django.urls import path

from . import views

app_name = "mediation"

urlpatterns = [
    path("", views.mediation_list, name="list"),
    path("mine/", views.mine, name="mine"),
    path("committees/", views.committees, name="committees"),
    path("figures/", views.figures, name="figures"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/act/<slug:action>/", views.act, name="act"),
    path("<int:pk>/sessions/new/", views.session_new, name="session_new"),
    path("<int:pk>/agreement/", views.agreement_edit, name="agreement"),
    path("<int:pk>/agreement.pdf", views.agreement_file, name="agreement_pdf"),
    path("referrals/", views.referrals, name="referrals"),
    path("referrals/new/", views.referral_new, name="referral_new"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral"),
]
