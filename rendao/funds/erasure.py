"""What the funds app does when a person's account is erased (PIPL Art 47).

Registered from FundsConfig.ready() with
`rendao.privacy.services.register_erasure_handler`; runs inside the erasure's
transaction. Accounting records are kept (Accounting Archives Measures: 30
years), so a donation keeps its amount, dates, project, channel, status,
receipt and journal entry; it loses everything that names or reaches the
person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rendao.funds.donations import ANONYMOUS_NAME
from rendao.funds.models import Donation

if TYPE_CHECKING:
    from rendao.core.models import User


def donations_pseudonymise(user: User, actor: User) -> int:
    """Blank the name and number on `user`'s donations and unlink them; returns the rows changed.

    The public name becomes the anonymous label rather than staying masked:
    "张*明" still carries two characters of the name, and beside the amount,
    date and project on a public list that can point at one person, whom we
    no longer have any reason to name. The `anonymous` flag stays as it was:
    it records what the donor chose when giving. A receipt is rendered from
    the donation, so it now prints the anonymous donor too. The commitment
    salt stays: it is not about the person, and only their own receipt copy
    can use it to prove the gift.
    """
    # A queryset update: one statement, and the blind index (filled by the
    # field's pre_save, which update() skips) is cleared explicitly with the number.
    return Donation.objects.filter(user=user).update(
        donor_name="",
        donor_mobile="",
        donor_mobile_index=None,
        public_name=ANONYMOUS_NAME,
        user=None,
    )
