"""Forms of the staff disclosure pages.

Figures are typed one per line, "label = amount in yuan", and cleaned to whole
fen exactly (Decimal, at most two decimals): a third decimal or anything that is
not a number is refused with the line it is on, never rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.core.models import Branch
from rendao.disclosure.models import DisclosureStatus, Kind
from rendao.disclosure.services import (
    BODY_MAX,
    FIGURES_MAX,
    LABEL_MAX,
    MAX_FIGURE_FEN,
    NOTE_MAX,
    TITLE_MAX,
)
from rendao.funds.models import FundraisingProject

# Digits with an optional sign, thousands separators and up to any number of
# decimals: the decimals are counted afterwards so the error can say why.
_AMOUNT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def parse_figure_lines(text: str) -> dict[str, int]:
    """ "label = 1234.56" per line → {label: 123456}; ValidationError naming the bad line."""
    figures: dict[str, int] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        label, sep, amount = line.rpartition("=")
        label, amount = label.strip(), amount.strip().replace(" ", "")
        if not sep or not label:
            raise ValidationError(
                _("Line %(n)s: write “label = amount in yuan”, for example “received = 1250.00”.")
                % {"n": number}
            )
        if len(label) > LABEL_MAX:
            raise ValidationError(
                _("Line %(n)s: the label is too long (at most %(max)s characters).")
                % {"n": number, "max": LABEL_MAX}
            )
        if not _AMOUNT.match(amount):
            raise ValidationError(
                _("Line %(n)s: “%(amount)s” is not an amount in yuan.") % {"n": number, "amount": amount}
            )
        try:
            yuan = Decimal(amount.replace(",", ""))
        except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
            raise ValidationError(
                _("Line %(n)s: “%(amount)s” is not an amount in yuan.") % {"n": number, "amount": amount}
            ) from exc
        exponent = yuan.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise ValidationError(
                _("Line %(n)s: an amount has at most two decimals (fen); “%(amount)s” has more.")
                % {"n": number, "amount": amount}
            )
        fen = int(yuan * 100)
        if abs(fen) > MAX_FIGURE_FEN:
            raise ValidationError(_("Line %(n)s: the amount is implausibly large.") % {"n": number})
        if label in figures:
            raise ValidationError(
                _("Line %(n)s: the label “%(label)s” is given twice.") % {"n": number, "label": label}
            )
        figures[label] = fen
        if len(figures) > FIGURES_MAX:
            raise ValidationError(_("Too many figures (at most %(n)s).") % {"n": FIGURES_MAX})
    return figures


def figure_lines(figures: dict[str, int]) -> str:
    """The inverse of `parse_figure_lines`, in integer arithmetic."""
    lines = []
    for label, fen in figures.items():
        sign = "-" if fen < 0 else ""
        yuan, cents = divmod(abs(int(fen)), 100)
        lines.append(f"{label} = {sign}{yuan}.{cents:02d}")
    return "\n".join(lines)


class FiguresField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", gettext_lazy("figures"))
        kwargs.setdefault(
            "help_text",
            gettext_lazy(
                "One per line: “label = amount in yuan”, at most two decimals, e.g. “received = 1250.00”."
            ),
        )
        super().__init__(required=False, widget=forms.Textarea(attrs={"rows": 8}), **kwargs)

    def clean(self, value: Any) -> dict[str, int]:
        text: str = super().clean(value)
        return parse_figure_lines(text)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return figure_lines(value)
        return value


class _Content(forms.Form):
    title = forms.CharField(label=gettext_lazy("title"), max_length=TITLE_MAX)
    body = forms.CharField(
        label=gettext_lazy("text"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 10})
    )
    figures = FiguresField()


class _Period(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("kind"), choices=Kind.choices)
    period_start = forms.DateField(
        label=gettext_lazy("period start"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=gettext_lazy("period end"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period cannot end before it starts."))
        return data


class DisclosureEditForm(_Period, _Content):
    """A draft's content: kind, period, title, text and figures."""

    field_order = ["kind", "period_start", "period_end", "title", "body", "figures"]


class DisclosureCreateForm(DisclosureEditForm):
    """A new draft: where it belongs (a branch, maybe one of its projects) and its content."""

    branch = forms.ModelChoiceField(label=gettext_lazy("branch"), queryset=Branch.objects.none())
    project = forms.ModelChoiceField(
        label=gettext_lazy("fundraising project"), queryset=FundraisingProject.objects.none(), required=False
    )
    field_order = ["branch", "project", *DisclosureEditForm.field_order]

    def __init__(
        self,
        *args: Any,
        branches: QuerySet[Branch],
        projects: QuerySet[FundraisingProject],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        branch = self.fields["branch"]
        project = self.fields["project"]
        assert isinstance(branch, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        assert isinstance(project, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        branch.queryset = branches
        project.queryset = projects


class DraftFromDataForm(forms.Form):
    """The GET parameters of the calendar's "draft" link: prefill a new draft from the data."""

    kind = forms.ChoiceField(choices=Kind.choices)
    project = forms.ModelChoiceField(queryset=FundraisingProject.objects.none(), required=False)
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), required=False)
    start = forms.DateField()
    end = forms.DateField()

    def __init__(
        self,
        *args: Any,
        branches: QuerySet[Branch],
        projects: QuerySet[FundraisingProject],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        branch = self.fields["branch"]
        project = self.fields["project"]
        assert isinstance(branch, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        assert isinstance(project, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        branch.queryset = branches
        project.queryset = projects

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The period cannot end before it starts."))
        return data


class CorrectionForm(_Content):
    """A correction of a published disclosure: the new content and why it changed."""

    correction_note = forms.CharField(
        label=gettext_lazy("correction note"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown with the new version: what was wrong and what changed."),
    )


class DisclosureFilterForm(forms.Form):
    """The list's filters (GET); an invalid value shows every disclosure instead."""

    kind = forms.ChoiceField(
        label=gettext_lazy("kind"), choices=[("", gettext_lazy("all")), *list(Kind.choices)], required=False
    )
    status = forms.ChoiceField(
        label=gettext_lazy("status"),
        choices=[("", gettext_lazy("all")), *list(DisclosureStatus.choices)],
        required=False,
    )
