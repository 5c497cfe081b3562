"""The approver reads the disclosure itself from the approval page, not just its title."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rendao.conftest import Personas, signed_in_client
from rendao.disclosure.services import disclosure_submit
from rendao.disclosure.tests.helpers import draft

pytestmark = pytest.mark.django_db


def test_the_approval_page_links_to_the_disclosure_being_approved(personas: Personas) -> None:
    d = draft(personas.finance, personas.tree.city)
    request = disclosure_submit(actor=personas.finance, disclosure=d)
    client = signed_in_client(personas.city_staff)
    page = client.get(reverse("approvals:detail", kwargs={"pk": request.pk}), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    link = reverse("disclosure:staff_detail", kwargs={"pk": d.pk})
    assert f'href="{link}"' in page.content.decode()
    # …and the approver may open it.
    assert client.get(link, HTTP_ACCEPT_LANGUAGE="en").status_code == 200
