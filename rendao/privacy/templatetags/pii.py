"""Template filters that show personal data masked: the default on every page.

    {% load pii %}
    {{ user.mobile|mask_mobile }}   {{ identity.real_name|mask_name }}
    {{ identity.id_number|mask_id_number }}   {{ value|masked:"mobile" }}

Unmasked display is never a filter: it goes through
rendao.privacy.reveal.pii_reveal, which checks the permission and audits.
"""

from __future__ import annotations

from django import template

from rendao.core import masking

register = template.Library()


@register.filter
def mask_mobile(value: str | None) -> str:
    return masking.mask_mobile(value)


@register.filter
def mask_name(value: str | None) -> str:
    return masking.mask_name(value)


@register.filter
def mask_id_number(value: str | None) -> str:
    return masking.mask_id_number(value)


@register.filter
def masked(value: str | None, kind: str) -> str:
    return masking.mask(kind, value)
