"""Signing in and out, changing the password, the administrator's forced change, and lockout."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from centers.models import User
from tests.conftest import World
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "湘源-综治-2026-新"


def sign_in(client: Client, username: str, password: str = TEST_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_the_login_page_is_in_chinese() -> None:
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "登录" in page and "用户名" in page and "密码" in page


def test_an_anonymous_visitor_is_sent_to_the_login_page() -> None:
    for url in ("/", reverse("centers:regions"), reverse("password_change")):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_a_clerk_signs_in_and_lands_on_the_home_page(world: World) -> None:
    client = Client()
    response = sign_in(client, "town_a_dispatcher")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    page = client.get("/", follow=True).content.decode()
    assert "王芳" in page
    assert "城关街道综治中心" in page


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(world: World) -> None:
    client = Client()
    response = sign_in(client, "town_a_dispatcher", "wrong-password")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_signing_out_takes_a_post_and_ends_the_session(world: World) -> None:
    client = Client()
    sign_in(client, "town_a_dispatcher")
    assert client.get(reverse("logout")).status_code == 405  # a link cannot sign anybody out
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get("/").status_code == 302


def test_changing_the_password(world: World) -> None:
    client = Client()
    sign_in(client, "town_a_dispatcher")
    assert "修改密码" in client.get(reverse("password_change")).content.decode()
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert "密码已修改" in client.get(response["Location"]).content.decode()
    # Still signed in (the session hash was updated), and only the new password works from now on.
    assert client.get("/", follow=True).status_code == 200
    user = User.objects.get(username="town_a_dispatcher")
    assert user.check_password(NEW_PASSWORD) and not user.check_password(TEST_PASSWORD)


def test_a_wrong_old_password_changes_nothing(world: World) -> None:
    client = Client()
    sign_in(client, "town_a_dispatcher")
    response = client.post(
        reverse("password_change"),
        {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    assert User.objects.get(username="town_a_dispatcher").check_password(TEST_PASSWORD)


def test_a_reset_password_must_be_changed_before_anything_else(world: World) -> None:
    User.objects.filter(username="town_a_dispatcher").update(must_change_password=True)
    client = Client()
    response = sign_in(client, "town_a_dispatcher")
    for url in ("/", reverse("centers:regions"), reverse("centers:region", args=[world.town_a.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("password_change")
    assert "管理员已重置您的密码" in client.get(reverse("password_change")).content.decode()
    client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert not User.objects.get(username="town_a_dispatcher").must_change_password
    assert client.get(reverse("centers:regions")).status_code in (200, 302)
    assert client.get(reverse("centers:region", args=[world.town_a.pk])).status_code == 200


def test_five_wrong_passwords_lock_the_account_until_an_administrator_unlocks_it(world: World) -> None:
    client = Client()
    for _ in range(5):
        sign_in(client, "town_a_dispatcher", "wrong-password")
    response = sign_in(client, "town_a_dispatcher")  # even the right password
    assert response.status_code == 429
    assert "账户已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The lock is on the account, not the address: a colleague at the same hall computer signs in.
    assert sign_in(Client(), "town_b_dispatcher").status_code == 302
