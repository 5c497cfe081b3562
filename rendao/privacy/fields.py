"""Model fields for personal data: encrypted at rest, found by a blind index.

    id_number = EncryptedTextField(_("ID card number"), blank=True)
    id_number_index = BlindIndexField(source="id_number", purpose="id_number", unique=True)

    Identity.objects.filter(id_number_index=index_for("id_number", raw))

An encrypted column cannot be searched or sorted (its ciphertext is random), so
every lookup other than `isnull` is refused with a clear error rather than
silently matching nothing. The index is recomputed on every save(); a
`QuerySet.update()` of the source column bypasses it, so services save rows.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models

from rendao.privacy.crypto import blind_index, decrypt, encrypt
from rendao.privacy.normalize import normalize


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text value sealed with AES-256-GCM under the current vault key."""

    description = "Text encrypted at rest"

    @property
    def aad(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value, aad=self.aad)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value), aad=self.aad)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.name} is encrypted and cannot be searched with '{lookup_name}'; use its blind index"
            )
        return super().get_lookup(lookup_name)


class BlindIndexField(models.CharField):  # type: ignore[type-arg]
    """HMAC-SHA256 of another field's normalised value, for exact lookups."""

    description = "Keyed hash of another field, for exact lookups"

    def __init__(self, *args: Any, source: str, purpose: str, **kwargs: Any) -> None:
        self.source = source
        self.purpose = purpose
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        if not kwargs.get("unique"):
            kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["purpose"] = self.purpose
        for key, default in (("max_length", 64), ("null", True), ("blank", True), ("editable", False)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        raw = getattr(model_instance, self.source)
        value = index_for(self.purpose, raw) if raw else None
        setattr(model_instance, self.attname, value)
        return value


def index_for(purpose: str, raw: str) -> str:
    """The blind index of `raw` for a purpose, after the purpose's normalisation."""
    return blind_index(normalize(purpose, raw), purpose=purpose)
