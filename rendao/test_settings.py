"""Settings for the test suite: the real settings module, with a throwaway data
directory and tasks run inline. Only environment defaults are set here, so every
variable is still read in one place (settings.py)."""

import os
import tempfile

# Each test process gets its own data directory (file cache, keys), set rather
# than defaulted: xdist workers inherit the parent's environment, and a shared
# cache lets one worker's cache.clear() reset another's rate-limit counters.
os.environ["RENDAO_DATA_DIR"] = tempfile.mkdtemp(prefix="rendao-test-")
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
# WhiteNoise warns when STATIC_ROOT is missing; tests never collect static files.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
