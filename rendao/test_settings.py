"""Settings for the test suite: the real settings module, with a throwaway data
directory and tasks run inline. Only environment defaults are set here, so every
variable is still read in one place (settings.py)."""

import os
import tempfile

os.environ.setdefault("RENDAO_DATA_DIR", tempfile.mkdtemp(prefix="rendao-test-"))
os.environ.setdefault("RENDAO_HUEY_IMMEDIATE", "true")
os.environ.setdefault("RENDAO_LOG_LEVEL", "DEBUG")

from rendao.settings import *  # noqa: F403

# Password hashing is deliberately slow; the suite hashes thousands of passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Manifest storage needs collectstatic; tests render templates without it.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
