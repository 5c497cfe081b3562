from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rendao.funds.forms_public import new_form_token
from rendao.funds.models import Donation, FundraisingProject

pytestmark = pytest.mark.django_db
EN: dict[str, Any] = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _post(project: FundraisingProject, **extra: str) -> None:
    data = {
        "preset": "",
        "custom": "50",
        "donor_name": "张三明",
        "mobile": "",
        "receipt": "wanted",
        "channel": "sandbox",
        "token": new_form_token(),
        "c": "",
        **extra,
    }
    Client().post(reverse("funds:give_donate", kwargs={"pk": project.pk}), data, **EN)


def test_the_form_offers_the_choice_ticked(project: FundraisingProject) -> None:
    page = Client().get(reverse("funds:give_donate", kwargs={"pk": project.pk}), **EN).content.decode()
    (box,) = re.findall(r'<input[^>]*name="feedback_wanted"[^>]*>', page)
    assert "checked" in box
    _post(project, feedback_wanted="on")
    _post(project)
    assert sorted(Donation.objects.values_list("feedback_wanted", flat=True)) == [False, True]


def test_the_api_defaults_to_telling_the_donor(project: FundraisingProject) -> None:
    body = {"project_id": project.pk, "amount_fen": 1000, "channel": "sandbox", "donor_name": "张三明"}
    for key, extra in (("k1", {}), ("k2", {"feedback_wanted": False})):
        response = Client().post(
            "/api/v1/donations",
            json.dumps({**body, **extra}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=key,
        )
        assert response.status_code == 201, response.content
    assert dict(Donation.objects.values_list("idempotency_key", "feedback_wanted")) == {
        "k1": True,
        "k2": False,
    }
    bad = Client().post(
        "/api/v1/donations",
        json.dumps({**body, "feedback_wanted": "yes"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k3",
    )
    assert bad.status_code == 422
