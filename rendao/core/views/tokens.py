"""Staff page for one's own API tokens: list, create (shown once), revoke.

The plaintext of a new token is rendered in the response to the POST that
created it and nowhere else: it is not put in the session or a message, and the
response is marked no-store so that no cache keeps it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from rendao.core import scope
from rendao.core.audit import RequestMeta
from rendao.core.decorators import staff_required
from rendao.core.models import ApiToken, Branch, User
from rendao.core.permissions import Perm
from rendao.core.services.tokens import NAME_MAX_LENGTH, token_create, token_revoke

# Lifetimes offered, in days; "" is no expiry.
LIFETIME_CHOICES = [
    ("30", gettext_lazy("30 days")),
    ("90", gettext_lazy("90 days")),
    ("365", gettext_lazy("One year")),
    ("", gettext_lazy("No expiry")),
]


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy("What the token is for, e.g. the system that will use it."),
    )
    branch = forms.ModelChoiceField(
        label=gettext_lazy("Limited to branch"),
        queryset=Branch.objects.none(),
        required=False,
        empty_label=gettext_lazy("All branches in my scope"),
        help_text=gettext_lazy("The token can act only within this branch and the branches under it."),
    )
    lifetime = forms.ChoiceField(
        label=gettext_lazy("Expires after"), choices=LIFETIME_CHOICES, required=False, initial="90"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only branches inside the user's token scope can be chosen; anything
        # else posted is "not one of the available choices".
        field = self.fields["branch"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        field.queryset = scope.branches_for(user, Perm.TOKEN_USE)


def _user(request: HttpRequest) -> User:
    # staff_required has let only signed-in, verified staff through.
    assert isinstance(request.user, User)  # noqa: S101 - narrows the type
    return request.user


def _page(
    request: HttpRequest, *, form: TokenCreateForm | None, new_token: str = "", status: int = 200
) -> HttpResponse:
    user = _user(request)
    context = {
        "tokens": ApiToken.objects.filter(user=user).select_related("branch").order_by("-created_at", "-id"),
        "may_create": form is not None,
        "form": form,
        "new_token": new_token,
        "now": timezone.now(),
    }
    context["nav"] = "tokens"
    return render(request, "staff/tokens.html", context, status=status)


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """The user's tokens, and the form to create one if their roles allow it."""
    user = _user(request)
    may_create = scope.has_perm_anywhere(user, Perm.TOKEN_USE)
    if request.method == "GET":
        return _page(request, form=TokenCreateForm(user=user) if may_create else None)
    if not may_create:
        return _page(request, form=None, status=403)
    form = TokenCreateForm(request.POST, user=user)
    if form.is_valid():
        days = form.cleaned_data["lifetime"]
        expires_at = timezone.now() + timedelta(days=int(days)) if days else None
        try:
            _token, plaintext = token_create(
                actor=user,
                name=form.cleaned_data["name"],
                branch=form.cleaned_data["branch"],
                expires_at=expires_at,
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            # A field-keyed error lacks error_list, so the two shapes are told apart first.
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            return _page(request, form=TokenCreateForm(user=user), new_token=plaintext)
    return _page(request, form=form, status=400)


@staff_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    # Only one's own tokens: anyone else's id looks absent.
    token = ApiToken.objects.filter(user=user, pk=pk).first()
    if token is None:
        raise Http404
    token_revoke(actor=user, token=token, meta=RequestMeta.from_request(request))
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("core:tokens")


urlpatterns: list[URLPattern] = [
    path("staff/tokens/", token_list, name="tokens"),
    path("staff/tokens/<int:pk>/revoke/", token_revoke_view, name="token_revoke"),
]
