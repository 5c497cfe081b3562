"""The public services shown as tiles on the home page.

These are the six services the city society put on its mobile platform (seed
article, 2019). The list is data: the tiles exist from day one, and each one
links to a plain "not yet available online" page until the app that builds the
service switches it on from its `AppConfig.ready()`::

    from rendao.core.services_catalogue import register_service_url
    register_service_url("first-aid-training", "training:course_list")

Keys are stable (they appear in URLs); titles and summaries are translated.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class PublicService:
    key: str
    title: str | Promise
    summary: str | Promise
    # File name under static/rendao/icons/.
    icon: str


SERVICES: tuple[PublicService, ...] = (
    PublicService(
        key="first-aid-training",
        title=_("First-aid training"),
        summary=_("Enrol in a first-aid course and earn a first-aider certificate."),
        icon="training.svg",
    ),
    PublicService(
        key="aid-application",
        title=_("Apply for humanitarian aid"),
        summary=_("Ask for help for yourself or your family and follow the review."),
        icon="aid.svg",
    ),
    PublicService(
        key="online-giving",
        title=_("Give online"),
        summary=_("Donate to a project and receive an electronic receipt."),
        icon="giving.svg",
    ),
    PublicService(
        key="donation-disclosure",
        title=_("Donation disclosure"),
        summary=_("See what was received and where every yuan and item went."),
        icon="disclosure.svg",
    ),
    PublicService(
        key="donor-registration",
        title=_("Blood, stem-cell and organ donor registration"),
        summary=_("Record your wish to donate blood, stem cells, or body and organs."),
        icon="donor.svg",
    ),
    PublicService(
        key="volunteering",
        title=_("Volunteer service"),
        summary=_("Register as a volunteer, join a team and sign up for activities."),
        icon="volunteer.svg",
    ),
)

_BY_KEY = {s.key: s for s in SERVICES}
# key -> URL name of the page that serves it, filled in by the apps that build them.
_LIVE: dict[str, str] = {}


def register_service_url(key: str, url_name: str) -> None:
    """Switch a tile on: from now on it links to `url_name` instead of the notice."""
    if key not in _BY_KEY:
        raise KeyError(f"unknown public service {key!r}; add it to SERVICES first")
    _LIVE[key] = url_name


def unregister_service_url(key: str) -> None:
    """Switch a tile back off (tests, or a service taken offline for maintenance)."""
    _LIVE.pop(key, None)


def get_service(key: str) -> PublicService | None:
    return _BY_KEY.get(key)


def is_live(service: PublicService) -> bool:
    return service.key in _LIVE


def service_url(service: PublicService) -> str:
    """Where the tile links: the live page, or the "not yet available" notice."""
    url_name = _LIVE.get(service.key)
    if url_name is not None:
        return reverse(url_name)
    return reverse("core:service_unavailable", kwargs={"key": service.key})
