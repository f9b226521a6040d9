from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeView
from django.shortcuts import redirect, render

from . import navigation
from .jurisdiction import get_for_user_or_404
from .models import Center, Region
from .selectors import (
    memberships_of,
    region_ancestors_for,
    region_children_for,
    region_staff,
    roles_of,
    top_regions_for,
    units_in,
)
from .services import user_password_changed


@login_required
def home(request):
    """Land each role on its own first page (the clerk's desk, the mediator's queue, the screen…)."""
    url = navigation.home_url_for(roles_of(request.user))
    if url and url != request.path:
        return redirect(url)
    return render(request, "centers/home.html", {"memberships": memberships_of(request.user)})


class PasswordChange(PasswordChangeView):
    """Django's password change, which also clears the administrator's must-change flag."""

    def form_valid(self, form):
        response = super().form_valid(form)
        user_password_changed(user=self.request.user)
        return response


@login_required
def regions(request):
    """辖区概况: the places the user is responsible for (straight to it when there is one)."""
    tops = top_regions_for(request.user)
    if len(tops) == 1:
        return redirect("centers:region", pk=tops[0].pk)
    return render(request, "centers/regions.html", {"regions": tops, "units": units_in(request.user)})


@login_required
def region_detail(request, pk: int):
    """One place: its center and staff, its units, and the places under it. 404 outside the jurisdiction."""
    region = get_for_user_or_404(Region, request.user, pk=pk)
    center = Center.objects.filter(region=region).first()
    return render(
        request,
        "centers/region_detail.html",
        {
            "region": region,
            "center": center,
            "ancestors": region_ancestors_for(request.user, region),
            "children": region_children_for(request.user, region),
            "staff": region_staff(region) if center else [],
            "units": units_in(request.user, region),
        },
    )
