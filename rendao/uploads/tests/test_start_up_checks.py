"""Misconfigured uploads stop start-up with a check that names the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from rendao.uploads import checks
from rendao.uploads.checks import check_uploads
from rendao.uploads.storage import S3_BACKEND, s3_options, uploads_storage


def ids(settings: Settings) -> list[str]:
    return [m.id or "" for m in check_uploads(None)]


def test_the_default_configuration_passes(settings: Settings) -> None:
    assert ids(settings) == []


def test_s3_without_the_package_is_an_error(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.UPLOADS_S3_BUCKET = "rendao-uploads"
    monkeypatch.setattr(checks, "_package_missing", lambda name: name == "storages")
    assert ids(settings) == ["rendao.E401"]


def test_s3_with_the_package_passes(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.UPLOADS_S3_BUCKET = "rendao-uploads"
    monkeypatch.setattr(checks, "_package_missing", lambda name: False)
    assert ids(settings) == []


def test_half_a_pair_of_s3_credentials_is_an_error(settings: Settings) -> None:
    settings.UPLOADS_S3_ACCESS_KEY_ID = "AKID"
    assert "rendao.E402" in ids(settings)


def test_an_unknown_sendfile_mode_is_an_error(settings: Settings) -> None:
    settings.UPLOADS_SENDFILE = "x-nginx"
    assert ids(settings) == ["rendao.E403"]


def test_sendfile_with_s3_is_an_error(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "_package_missing", lambda name: False)
    settings.UPLOADS_S3_BUCKET = "rendao-uploads"
    settings.UPLOADS_SENDFILE = "x-accel-redirect"
    assert ids(settings) == ["rendao.E404"]


def test_a_relative_accel_prefix_is_an_error(settings: Settings) -> None:
    settings.UPLOADS_SENDFILE = "x-accel-redirect"
    settings.UPLOADS_SENDFILE_PREFIX = "protected/"
    assert ids(settings) == ["rendao.E405"]


def test_uploads_inside_the_static_files_is_an_error(settings: Settings) -> None:
    settings.UPLOADS_DIR = Path(settings.STATIC_ROOT) / "uploads"
    assert ids(settings) == ["rendao.E406"]


def test_a_purpose_above_the_request_cap_is_a_warning(settings: Settings) -> None:
    settings.UPLOADS_MAX_BYTES = 1024 * 1024
    assert set(ids(settings)) == {"rendao.W401"}


def test_the_s3_storage_is_private_and_configured_from_settings(settings: Settings) -> None:
    settings.UPLOADS_S3_BUCKET = "rendao-uploads"
    settings.UPLOADS_S3_ENDPOINT_URL = "https://oss-cn-hangzhou.aliyuncs.com"
    settings.UPLOADS_S3_REGION = "oss-cn-hangzhou"
    settings.UPLOADS_S3_ACCESS_KEY_ID = "AKID"
    settings.UPLOADS_S3_SECRET_ACCESS_KEY = "secret"
    assert s3_options() == {
        "bucket_name": "rendao-uploads",
        "location": "uploads",
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
        "endpoint_url": "https://oss-cn-hangzhou.aliyuncs.com",
        "region_name": "oss-cn-hangzhou",
        "access_key": "AKID",
        "secret_key": "secret",
    }
    assert S3_BACKEND == "storages.backends.s3.S3Storage"
    try:
        import storages  # noqa: F401
    except ImportError:
        # Without the "s3" extra, choosing S3 fails loudly (and E401 stops start-up first).
        with pytest.raises(ImportError):
            uploads_storage()
    else:
        assert type(uploads_storage()).__name__ == "S3Storage"
