"""Accounts without email: reset within one's own center subtree, lockout and unlock, deactivation
that keeps history."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from centers.models import Membership, User
from countyadmin import access, services
from countyadmin.models import AdminAction, AdminLog
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "凤岭-综治-2026-改"


def sign_in(client: Client, username: str, password: str = TEST_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_town_leader_administers_own_town_and_villages_only(aw) -> None:
    mine = set(access.administrable_users(aw.town_a_leader).values_list("username", flat=True))
    assert {
        "town_a_dispatcher",
        "village_a_worker",
        "village_a_staff",
        "town_a_handler",
        "unit_staff",
    } <= mine
    # Not the other town, not the county, not a person also posted at the county, not a peer or oneself.
    assert not mine & {
        "town_b_dispatcher",
        "county_dispatcher",
        "two_posts",
        "town_a_leader",
        "sysadmin",
        "mediator",
    }
    county = set(access.administrable_users(aw.county_admin).values_list("username", flat=True))
    assert {"two_posts", "town_a_leader", "town_b_leader", "mediator", "county_dispatcher"} <= county
    assert "sysadmin" not in county  # only superusers administer superusers
    assert access.administrable_users(aw.town_a_dispatcher).count() == 0  # a dispatcher administers nobody


def test_reset_password_in_scope_forces_a_change_at_first_login(aw, client_for) -> None:
    client = client_for(aw.town_a_leader)
    response = client.post(
        reverse("countyadmin:account_reset", args=[aw.village_a_worker.pk]),
        {"reason": "本人忘记密码，电话核实"},
    )
    assert response.status_code == 200
    temporary = response.context["temporary_password"]
    assert temporary and temporary in response.content.decode()
    worker = User.objects.get(pk=aw.village_a_worker.pk)
    assert worker.must_change_password and worker.check_password(temporary)
    assert not worker.check_password(TEST_PASSWORD)
    entry = AdminLog.objects.get(action=AdminAction.PASSWORD_RESET, target_user=worker)
    assert entry.by == aw.town_a_leader and entry.reason == "本人忘记密码，电话核实"
    assert temporary not in str(entry.summary) + str(entry.data)  # the password itself is never logged

    # The worker signs in with it and must change it before anything else.
    worker_client = Client()
    assert sign_in(worker_client, "village_a_worker", temporary).status_code == 302
    response = worker_client.get(reverse("cases:queue"))
    assert response.status_code == 302 and response["Location"] == reverse("password_change")
    worker_client.post(
        reverse("password_change"),
        {"old_password": temporary, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert not User.objects.get(pk=worker.pk).must_change_password


def test_reset_outside_own_subtree_is_not_there(aw, client_for) -> None:
    client = client_for(aw.town_a_leader)
    for user in (aw.town_b_dispatcher, aw.two_posts, aw.county_dispatcher, aw.sysadmin):
        response = client.post(reverse("countyadmin:account_reset", args=[user.pk]), {"reason": "试图越权"})
        assert response.status_code == 404
        assert client.get(reverse("countyadmin:account", args=[user.pk])).status_code == 404
        assert User.objects.get(pk=user.pk).check_password(TEST_PASSWORD)
    with pytest.raises(services.NotAllowed):
        services.account_password_reset(by=aw.town_a_leader, user=aw.town_b_dispatcher, reason="越权")
    # A dispatcher is no administrator at all.
    assert client_for(aw.town_a_dispatcher).get(reverse("countyadmin:accounts")).status_code == 403


def test_reset_needs_a_reason_and_a_typed_password_must_pass_the_validators(aw, client_for) -> None:
    client = client_for(aw.town_a_leader)
    url = reverse("countyadmin:account_reset", args=[aw.town_a_dispatcher.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400 and "reason" in response.context["reset_form"].errors
    response = client.post(url, {"reason": "忘记密码", "password": "12345678"})
    assert response.status_code == 400
    assert "密码" in " ".join(response.context["reset_form"].non_field_errors())
    assert User.objects.get(pk=aw.town_a_dispatcher.pk).check_password(TEST_PASSWORD)


def test_lockout_after_five_failures_and_unlock_by_own_administrator(aw, client_for) -> None:
    for _ in range(5):
        sign_in(Client(), "town_a_dispatcher", "wrong-password")
    assert sign_in(Client(), "town_a_dispatcher").status_code == 429
    assert services.is_locked(aw.town_a_dispatcher)

    listing = client_for(aw.town_a_leader).get(reverse("countyadmin:accounts") + "?status=locked")
    assert [u.username for u in listing.context["page"]] == ["town_a_dispatcher"]

    # Town B's leader cannot unlock town A's clerk.
    other = client_for(aw.town_b_leader).post(
        reverse("countyadmin:account_unlock", args=[aw.town_a_dispatcher.pk]), {"unlock-reason": "越权"}
    )
    assert other.status_code == 404
    assert sign_in(Client(), "town_a_dispatcher").status_code == 429

    client = client_for(aw.town_a_leader)
    page = client.get(reverse("countyadmin:account", args=[aw.town_a_dispatcher.pk])).content.decode()
    assert "已锁定" in page and 'id="unlock"' in page
    response = client.post(
        reverse("countyadmin:account_unlock", args=[aw.town_a_dispatcher.pk]),
        {"unlock-reason": "本人确认，输错密码"},
    )
    assert response.status_code == 302
    assert not services.is_locked(aw.town_a_dispatcher)
    assert sign_in(Client(), "town_a_dispatcher").status_code == 302
    assert AdminLog.objects.filter(action=AdminAction.UNLOCK, target_user=aw.town_a_dispatcher).count() == 1
    with pytest.raises(services.DomainError, match="未被锁定"):
        services.account_unlock(by=aw.town_a_leader, user=aw.town_a_dispatcher, reason="再次")


def test_deactivation_ends_posts_keeps_every_row_and_blocks_login(aw, client_for, make_case) -> None:
    case = make_case(by=aw.town_a_dispatcher)
    client = Client()
    assert sign_in(client, "village_a_worker").status_code == 302
    response = client_for(aw.town_a_leader).post(
        reverse("countyadmin:account_deactivate", args=[aw.village_a_worker.pk]),
        {"deactivate-reason": "调离本县"},
    )
    assert response.status_code == 302
    worker = User.objects.get(pk=aw.village_a_worker.pk)
    assert not worker.is_active
    posts = Membership.objects.filter(user=worker)
    assert posts.count() == 1 and not posts.filter(is_active=True).exists()  # ended, not deleted
    assert posts.get().history.filter(is_active=False).exists()
    # The open session ends with it, and the password no longer signs in.
    assert client.get(reverse("cases:queue")).status_code == 302
    assert sign_in(Client(), "village_a_worker").status_code == 200
    assert case.pk and User.objects.filter(pk=worker.pk).exists()

    # Restoring brings the account and the posts the deactivation ended back.
    services.account_reactivate(by=aw.town_a_leader, user=worker, reason="返岗")
    worker.refresh_from_db()
    assert worker.is_active and worker.must_change_password
    assert Membership.objects.filter(user=worker, is_active=True).count() == 1
    actions = list(AdminLog.objects.filter(target_user=worker).values_list("action", flat=True))
    assert set(actions) == {AdminAction.DEACTIVATE, AdminAction.REACTIVATE}


def test_deactivating_someone_with_open_work_needs_a_successor(aw, make_case) -> None:
    make_case(by=aw.village_a_staff)  # village_a_staff is its first responder
    with pytest.raises(services.DomainError, match="接手人"):
        services.account_deactivate(by=aw.town_a_leader, user=aw.village_a_staff, reason="退休")
    assert User.objects.get(pk=aw.village_a_staff.pk).is_active
    services.account_deactivate(
        by=aw.town_a_leader, user=aw.village_a_staff, reason="退休", successor=aw.town_a_dispatcher
    )
    assert not services.holdings_of(aw.village_a_staff).total
    assert services.holdings_of(aw.town_a_dispatcher).total == 1
