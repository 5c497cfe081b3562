"""Shared by the vault tests: a key ring the test controls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from rendao.privacy.keyring import new_key, reset_keyring_cache


class Keys:
    """Sets the vault's keys for one test; the cached key ring follows."""

    def __init__(self, settings: SettingsWrapper) -> None:
        self.settings = settings
        self.material = {"k1": new_key(), "k2": new_key()}
        self.index_keys = [new_key(), new_key()]

    def use(self, *kids: str, index: int = 0) -> None:
        self.settings.VAULT_KEYS = ",".join(f"{kid}:{self.material[kid]}" for kid in kids)
        self.settings.VAULT_INDEX_KEY = self.index_keys[index]
        reset_keyring_cache()


@pytest.fixture
def keys(settings: SettingsWrapper) -> Iterator[Keys]:
    k = Keys(settings)
    k.use("k1")
    yield k
    reset_keyring_cache()
