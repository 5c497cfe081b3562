"""The one settings module.

Every environment variable is read here, once, through the typed helpers in
`rendao.env`, with a comment and a safe default. `.env.example` lists them all.
Misconfiguration is caught by system checks in `rendao.core.checks` at start-up.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from rendao.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent

# Where the SQLite database, the task-queue file, uploads, generated keys and
# collected static files live on a one-machine install. Created on first use.
DATA_DIR = Path(env_str("RENDAO_DATA_DIR", str(Path.cwd() / "var"))).resolve()

# "development" (the default: demo and local use) or "production". Production
# refuses demo data and insists on an explicit secret key (see core/checks.py).
RENDAO_ENV = env_str("RENDAO_ENV", "development")

# Django's debug pages leak internals; off unless asked for.
DEBUG = env_bool("RENDAO_DEBUG", False)


def _secret_key() -> str:
    """Use RENDAO_SECRET_KEY; outside production, make one and keep it in DATA_DIR.

    A generated key is written once with mode 0600 so that sessions survive a
    restart of the demo; it is never a constant in the code.
    """
    configured = env_str("RENDAO_SECRET_KEY", "")
    if configured or RENDAO_ENV == "production":
        return configured
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


# Signs sessions, CSRF tokens and password-reset links. Required in production.
SECRET_KEY = _secret_key()

# Host names this site answers to (comma separated).
ALLOWED_HOSTS = env_list("RENDAO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

# Origins trusted for CSRF on HTTPS (comma separated, with scheme).
CSRF_TRUSTED_ORIGINS = env_list("RENDAO_CSRF_TRUSTED_ORIGINS", [])

# The public base URL, used in messages and links sent out of the platform.
SITE_URL = env_str("RENDAO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "treebeard",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "huey.contrib.djhuey",
    "csp",
    "rendao.core",
    "rendao.privacy",
    "rendao.uploads",
    "rendao.approvals",
    "rendao.ledger",
    "rendao.funds",
    "rendao.recipients",
    "rendao.disbursements",
    "rendao.goods",
    "rendao.feedback",
    "rendao.disclosure",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "rendao.core.middleware.SessionLimitsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "rendao.urls"
WSGI_APPLICATION = "rendao.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rendao.core.context_processors.workbench",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# DATABASE_URL: sqlite:///path or postgres://user@host:5432/name. The default is a
# SQLite file in DATA_DIR so the platform runs with nothing else installed.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'rendao.sqlite3'}")
# Seconds a PostgreSQL connection is kept open between requests (persistent
# connections); SQLite ignores it.
DB_CONN_MAX_AGE = env_int("RENDAO_DB_CONN_MAX_AGE", 600)

_db = dj_database_url.parse(DATABASE_URL)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # WAL lets readers run beside the writer; synchronous=FULL makes an
        # acknowledged commit survive a power cut; the busy timeout (ms) and the
        # IMMEDIATE transactions keep concurrent writers queueing instead of
        # failing with "database is locked" on a lock upgrade.
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;"
            "PRAGMA foreign_keys=ON;PRAGMA busy_timeout=20000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    _db["CONN_MAX_AGE"] = 0
else:
    _db["CONN_MAX_AGE"] = DB_CONN_MAX_AGE
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, task queue -------------------------------------------
# REDIS_URL: when set, Redis holds the cache, the sessions and the task queue.
REDIS_URL = env_str("REDIS_URL", "")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # A file cache is shared by every process on the machine, so API rate limits
    # hold across gunicorn workers without Redis.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Run tasks inline instead of through the worker (tests set this).
HUEY_IMMEDIATE = env_bool("RENDAO_HUEY_IMMEDIATE", False)
HUEY: dict[str, object] = {
    "name": "rendao",
    "immediate": HUEY_IMMEDIATE,
    "utc": True,
    "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
}
if REDIS_URL:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "tasks.sqlite3")})

# --- Accounts and sessions ---------------------------------------------------
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:signin"  # defined in core/views/auth.py
LOGIN_REDIRECT_URL = "core:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Idle timeout (seconds): the cookie is renewed on every request, so a session
# ends after this long without activity (MLPS level 3 asks for it on staff).
SESSION_IDLE_SECONDS = env_int("RENDAO_SESSION_IDLE_SECONDS", 30 * 60)
# Absolute limit (seconds) after sign-in, however active the session is.
SESSION_ABSOLUTE_SECONDS = env_int("RENDAO_SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# SMS sign-in codes: lifetime (s), sends per number per hour, sends per IP per hour,
# wrong guesses before a code is burnt.
SMS_CODE_TTL_SECONDS = env_int("RENDAO_SMS_CODE_TTL_SECONDS", 5 * 60)
SMS_CODE_PER_NUMBER_PER_HOUR = env_int("RENDAO_SMS_CODE_PER_NUMBER_PER_HOUR", 5)
SMS_CODE_PER_IP_PER_HOUR = env_int("RENDAO_SMS_CODE_PER_IP_PER_HOUR", 20)
SMS_CODE_MAX_ATTEMPTS = 5
# Staff password sign-in: failures allowed per account and per IP in 15 minutes.
LOGIN_FAILURES_PER_ACCOUNT = env_int("RENDAO_LOGIN_FAILURES_PER_ACCOUNT", 5)
LOGIN_FAILURES_PER_IP = env_int("RENDAO_LOGIN_FAILURES_PER_IP", 30)
# "Follow my donation" by receipt number and code: failures allowed per hour per
# client IP and per receipt number before look-ups (even right ones) are refused.
FOLLOW_FAILURES_PER_IP = env_int("RENDAO_FOLLOW_FAILURES_PER_IP", 10)
FOLLOW_FAILURES_PER_RECEIPT = env_int("RENDAO_FOLLOW_FAILURES_PER_RECEIPT", 5)
OTP_TOTP_ISSUER = "rendao"

# --- HTTPS and security headers ---------------------------------------------
# Behind a TLS-terminating proxy in production: turns on secure cookies, the
# HTTPS redirect and trusts the proxy's X-Forwarded-Proto header.
RENDAO_HTTPS = env_bool("RENDAO_HTTPS", False)
# HSTS lifetime in seconds; 0 (off) unless served over HTTPS.
SECURE_HSTS_SECONDS = env_int("RENDAO_HSTS_SECONDS", 31536000 if RENDAO_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = RENDAO_HTTPS
SECURE_HSTS_PRELOAD = RENDAO_HTTPS
SECURE_SSL_REDIRECT = RENDAO_HTTPS
SESSION_COOKIE_SECURE = RENDAO_HTTPS
CSRF_COOKIE_SECURE = RENDAO_HTTPS
if RENDAO_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Only our own, vendored scripts and styles: no inline script, no CDN.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Languages and time -----------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# The project's own vendored files (rendao/static) belong to no app, so the app
# directories finder would miss them and the manifest storage would 500 on them.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Uploads (rendao/uploads) ------------------------------------------------
# Largest file accepted in any request, in bytes: counted while the body streams
# in, and a file past it is dropped before it is kept whole (each upload purpose
# has its own, lower limit). Keep nginx's client_max_body_size a little above it.
UPLOADS_MAX_BYTES = env_int("RENDAO_UPLOADS_MAX_BYTES", 20 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "rendao.uploads.handlers.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Private directory for uploaded files on this machine: outside STATIC_ROOT and
# never served by a URL of its own (only by the access-checked view).
UPLOADS_DIR = Path(env_str("RENDAO_UPLOADS_DIR", str(DATA_DIR / "uploads"))).resolve()
# S3-compatible object storage for uploads instead of UPLOADS_DIR (needs the "s3"
# extra: pip install -e ".[s3]"). Bucket name; empty keeps files local.
UPLOADS_S3_BUCKET = env_str("RENDAO_UPLOADS_S3_BUCKET", "")
# The service's endpoint for non-AWS providers (Aliyun OSS, MinIO, Tencent COS).
UPLOADS_S3_ENDPOINT_URL = env_str("RENDAO_UPLOADS_S3_ENDPOINT_URL", "")
# Region of the bucket (e.g. oss-cn-hangzhou, cn-north-1).
UPLOADS_S3_REGION = env_str("RENDAO_UPLOADS_S3_REGION", "")
# Key prefix inside the bucket.
UPLOADS_S3_LOCATION = env_str("RENDAO_UPLOADS_S3_LOCATION", "uploads")
# Credentials; both empty uses the machine's own (instance role, environment).
UPLOADS_S3_ACCESS_KEY_ID = env_str("RENDAO_UPLOADS_S3_ACCESS_KEY_ID", "")
UPLOADS_S3_SECRET_ACCESS_KEY = env_str("RENDAO_UPLOADS_S3_SECRET_ACCESS_KEY", "")
# Hand file bodies to the web server after the access check: "x-accel-redirect"
# (nginx), "x-sendfile" (Apache, lighttpd) or "" (Django streams them itself).
UPLOADS_SENDFILE = env_str("RENDAO_UPLOADS_SENDFILE", "")
# For x-accel-redirect: the nginx `internal` location that aliases UPLOADS_DIR.
UPLOADS_SENDFILE_PREFIX = env_str("RENDAO_UPLOADS_SENDFILE_PREFIX", "/protected/")

# --- Personal-data vault ----------------------------------------------------
# AES-256-GCM keys for personal fields: "kid:base64key,kid:base64key"; the first
# encrypts, all decrypt (rotation: put a new key first, run vault_rotate).
VAULT_KEYS = env_str("RENDAO_VAULT_KEYS", "")
# Or a file with one "kid base64key" per line (first line encrypts); read at start.
VAULT_KEYS_FILE = env_str("RENDAO_VAULT_KEYS_FILE", "")
# HMAC key (base64 of 32 bytes) for blind indexes: exact lookups of phone and ID
# numbers without storing them. Changing it needs `vault_rotate --reindex`.
VAULT_INDEX_KEY = env_str("RENDAO_VAULT_INDEX_KEY", "")

# --- Transparency log (rendao/ledger) ------------------------------------------
# The log's name in its signed checkpoints (C2SP tlog-checkpoint origin line);
# empty derives it from RENDAO_SITE_URL's host + "/ledger". Never change it once
# checkpoints have been published: verifiers pin it.
LEDGER_ORIGIN = env_str("RENDAO_LEDGER_ORIGIN", "")
# The Ed25519 key that signs checkpoints (a note signer key written by
# `rendao manage ledger_keygen`); outside production one is generated on first use.
LEDGER_KEY_FILE = env_str("RENDAO_LEDGER_KEY_FILE", "") or str(DATA_DIR / "ledger_key")
# Seconds between a new entry committing and a checkpoint signed over it.
LEDGER_CHECKPOINT_SECONDS = env_int("RENDAO_LEDGER_CHECKPOINT_SECONDS", 3)
# Note verifier keys ("name+keyid+base64") of the witnesses whose cosignatures
# on our checkpoints are accepted and served (comma separated).
LEDGER_WITNESSES = env_list("RENDAO_LEDGER_WITNESSES", [])

# --- Outgoing messages ------------------------------------------------------
# Which adapter delivers each logical channel, as channel=adapter pairs (comma
# separated). Callers write to logical channels ("sms", "email", later "dingtalk",
# "wecom", "wechat"); adapters live in rendao/core/channels/<adapter>/. The default
# sends SMS to the console adapter so that, with no SMS account, a demo user sees
# their sign-in code in the worker's log and on the staff outbox page. A route to
# an unknown adapter is a system-check error at start-up.
CHANNEL_ROUTES = env_list("RENDAO_CHANNEL_ROUTES", ["sms=console", "email=email", "console=console"])
# Delivery attempts before a message is given up as dead.
OUTBOX_MAX_ATTEMPTS = env_int("RENDAO_OUTBOX_MAX_ATTEMPTS", 8)
# SMTP server for the email channel; empty keeps mail in the console log.
EMAIL_HOST = env_str("RENDAO_EMAIL_HOST", "")
EMAIL_PORT = env_int("RENDAO_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("RENDAO_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("RENDAO_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = True
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("RENDAO_EMAIL_FROM", "rendao@localhost")
if not EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Message channel adapters (rendao/core/channels/<adapter>/) ----------------
# Delivery limits per adapter as adapter=count/period (period s, m or h), comma
# separated, e.g. "aliyun_sms=60/m,dingtalk=20/s". A message over the limit waits
# for the next window (it is not failed and no attempt is counted). Empty: no limit.
CHANNEL_RATE_LIMITS = env_list("RENDAO_CHANNEL_RATE_LIMITS", [])
# Seconds every HTTP call to a messaging provider may take; well under the
# outbox's 5-minute claim timeout, so a hung provider never causes a duplicate.
CHANNEL_HTTP_TIMEOUT = env_int("RENDAO_CHANNEL_HTTP_TIMEOUT", 10)
# Alibaba Cloud SMS (dysmsapi SendSms). The endpoint is the RPC gateway.
ALIYUN_SMS_ENDPOINT = env_str("RENDAO_ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
# AccessKey pair of a RAM user allowed to call SendSms only (secret: keep out of git).
ALIYUN_SMS_ACCESS_KEY_ID = env_str("RENDAO_ALIYUN_SMS_ACCESS_KEY_ID", "")
ALIYUN_SMS_ACCESS_KEY_SECRET = env_str("RENDAO_ALIYUN_SMS_ACCESS_KEY_SECRET", "")
# The approved signature (签名) printed at the head of every SMS.
ALIYUN_SMS_SIGN_NAME = env_str("RENDAO_ALIYUN_SMS_SIGN_NAME", "")
# Approved template per message type, comma separated: kind:TemplateCode, optionally
# followed by :var=placeholder|var=placeholder when the template's variable names
# differ from the message type's placeholders (e.g. signin_code:SMS_123456789).
ALIYUN_SMS_TEMPLATES = env_list("RENDAO_ALIYUN_SMS_TEMPLATES", [])
# DingTalk open platform: base URL, and the corp app (work notifications) that sends.
DINGTALK_API = env_str("RENDAO_DINGTALK_API", "https://oapi.dingtalk.com")
DINGTALK_APP_KEY = env_str("RENDAO_DINGTALK_APP_KEY", "")
DINGTALK_APP_SECRET = env_str("RENDAO_DINGTALK_APP_SECRET", "")
DINGTALK_AGENT_ID = env_str("RENDAO_DINGTALK_AGENT_ID", "")
# DingTalk group robot (signed webhook): its access_token and its SEC… signing secret.
DINGTALK_ROBOT_TOKEN = env_str("RENDAO_DINGTALK_ROBOT_TOKEN", "")
DINGTALK_ROBOT_SECRET = env_str("RENDAO_DINGTALK_ROBOT_SECRET", "")
# WeCom (企业微信) application messages: base URL, corp id, the app's secret and agent id.
WECOM_API = env_str("RENDAO_WECOM_API", "https://qyapi.weixin.qq.com")
WECOM_CORP_ID = env_str("RENDAO_WECOM_CORP_ID", "")
WECOM_CORP_SECRET = env_str("RENDAO_WECOM_CORP_SECRET", "")
WECOM_AGENT_ID = env_str("RENDAO_WECOM_AGENT_ID", "")
# WeChat official account template messages: base URL, app id and secret.
WECHAT_MP_API = env_str("RENDAO_WECHAT_MP_API", "https://api.weixin.qq.com")
WECHAT_MP_APP_ID = env_str("RENDAO_WECHAT_MP_APP_ID", "")
WECHAT_MP_APP_SECRET = env_str("RENDAO_WECHAT_MP_APP_SECRET", "")
# Template per message type, comma separated: kind:template_id, optionally followed
# by :key=placeholder|key=placeholder mapping the template's data keys (thing1,
# time2…) to the message type's placeholders.
WECHAT_MP_TEMPLATES = env_list("RENDAO_WECHAT_MP_TEMPLATES", [])

# --- Payment channels (rendao/funds/payments/<channel>/) ------------------------
# Channels donors may pay through, comma separated: sandbox (local cashier, demo
# only), wechatpay, alipay. An enabled channel without its keys is a start-up error.
PAYMENT_CHANNELS = env_list("RENDAO_PAYMENT_CHANNELS", ["sandbox"])
# Seconds every HTTP call to a payment channel may take.
PAYMENT_HTTP_TIMEOUT = env_int("RENDAO_PAYMENT_HTTP_TIMEOUT", 10)


def _sandbox_pay_key() -> str:
    """RENDAO_PAYMENT_SANDBOX_KEY; in development, generated once into DATA_DIR (0600)."""
    configured = env_str("RENDAO_PAYMENT_SANDBOX_KEY", "")
    if configured or RENDAO_ENV == "production":
        return configured
    path = DATA_DIR / "payment_sandbox_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


# HMAC key signing the sandbox's payment notifications (secret; never a constant).
PAYMENT_SANDBOX_KEY = _sandbox_pay_key()
# WeChat Pay API v3: API base, merchant id (mchid), the app id payers pay under.
PAYMENT_WECHATPAY_API = env_str("RENDAO_WECHATPAY_API", "https://api.mch.weixin.qq.com")
PAYMENT_WECHATPAY_MCH_ID = env_str("RENDAO_WECHATPAY_MCH_ID", "")
PAYMENT_WECHATPAY_APP_ID = env_str("RENDAO_WECHATPAY_APP_ID", "")
# Serial number of the merchant API certificate, and the file of its private key (secret).
PAYMENT_WECHATPAY_MCH_SERIAL_NO = env_str("RENDAO_WECHATPAY_MCH_SERIAL_NO", "")
PAYMENT_WECHATPAY_MCH_PRIVATE_KEY_FILE = env_str("RENDAO_WECHATPAY_MCH_PRIVATE_KEY_FILE", "")
# The 32-character APIv3 key that decrypts notifications (secret).
PAYMENT_WECHATPAY_API_V3_KEY = env_str("RENDAO_WECHATPAY_API_V3_KEY", "")
# WeChat Pay's verification keys as serial=path pairs (comma separated): the
# "WeChat Pay public key" (PUB_KEY_ID_…=pub_key.pem) and/or platform certificates.
# Configured, never downloaded: a notification naming another serial is refused.
PAYMENT_WECHATPAY_PLATFORM_KEYS = env_list("RENDAO_WECHATPAY_PLATFORM_KEYS", [])
# Alipay open API: gateway, app id, and the seller (partner) id notifications must name.
PAYMENT_ALIPAY_GATEWAY = env_str("RENDAO_ALIPAY_GATEWAY", "https://openapi.alipay.com/gateway.do")
PAYMENT_ALIPAY_APP_ID = env_str("RENDAO_ALIPAY_APP_ID", "")
PAYMENT_ALIPAY_SELLER_ID = env_str("RENDAO_ALIPAY_SELLER_ID", "")
# The app's RSA2 private key file (secret), and ALIPAY's public key file (支付宝公钥,
# not the app's own public key) that verifies notifications and answers.
PAYMENT_ALIPAY_APP_PRIVATE_KEY_FILE = env_str("RENDAO_ALIPAY_APP_PRIVATE_KEY_FILE", "")
PAYMENT_ALIPAY_PUBLIC_KEY_FILE = env_str("RENDAO_ALIPAY_PUBLIC_KEY_FILE", "")

# --- Online donations --------------------------------------------------------
# Smallest and largest online donation, in fen (1 yuan and 50,000 yuan): larger
# gifts go by bank transfer, where the donor's identity and intent are checked.
DONATION_MIN_FEN = env_int("RENDAO_DONATION_MIN_FEN", 100)
DONATION_MAX_FEN = env_int("RENDAO_DONATION_MAX_FEN", 5_000_000)
# Minutes an unpaid order stays payable; then it is closed at the channel.
DONATION_ORDER_TTL_MINUTES = env_int("RENDAO_DONATION_ORDER_TTL_MINUTES", 30)

# --- Approvals --------------------------------------------------------------
# Items whose amount is at or over this many fen need two distinct approvers even
# when their flow has one step (default 5,000,000 fen = 50,000 yuan).
APPROVAL_TWO_PERSON_FEN = env_int("RENDAO_APPROVAL_TWO_PERSON_FEN", 5_000_000)

# --- Charity Law watch (Art 61) ---------------------------------------------
# A year's charitable spending should reach this percentage of the prior year's
# income, and management cost stay at or under this percentage of the year's
# total spending; the dashboard flags a branch at risk otherwise.
CHARITY_SPENDING_MIN_PERCENT = env_int("RENDAO_CHARITY_SPENDING_MIN_PERCENT", 70)
CHARITY_MANAGEMENT_MAX_PERCENT = env_int("RENDAO_CHARITY_MANAGEMENT_MAX_PERCENT", 10)

# --- Disclosure calendar (issue 7) -------------------------------------------
# MCA Order 81 gives no amount for a "major transaction" (verify): a paid
# disbursement at or over this many fen owes a disclosure within 30 days
# (default 100,000,000 fen = 1,000,000 yuan).
DISCLOSURE_MAJOR_TRANSACTION_FEN = env_int("RENDAO_DISCLOSURE_MAJOR_TRANSACTION_FEN", 100_000_000)
# Days before its due day that an item counts as "due soon".
DISCLOSURE_DUE_SOON_DAYS = env_int("RENDAO_DISCLOSURE_DUE_SOON_DAYS", 7)
# Whether the daily job also tells finance staff of items due soon (always of overdue ones).
DISCLOSURE_NOTIFY_DUE_SOON = env_bool("RENDAO_DISCLOSURE_NOTIFY_DUE_SOON", False)
# Branch kinds that owe the annual report and audit (the legal entities).
DISCLOSURE_ANNUAL_BRANCH_KINDS = env_list("RENDAO_DISCLOSURE_ANNUAL_BRANCH_KINDS", ["city", "district"])

# --- Disbursements -----------------------------------------------------------
# Days the payee's sign-off link for a paid disbursement stays valid.
DISBURSEMENT_SIGNOFF_DAYS = env_int("RENDAO_DISBURSEMENT_SIGNOFF_DAYS", 30)

# --- Goods ------------------------------------------------------------------
# Days a distribution order's sign-off link stays valid for the recipient.
GOODS_SIGNOFF_MAX_AGE_DAYS = env_int("RENDAO_GOODS_SIGNOFF_MAX_AGE_DAYS", 60)

# --- Open data (issue 7) ------------------------------------------------------
# The licence every open dataset is published under, its URL, and the attribution
# users must give; shown on /open/data/, in every JSON page and in docs/open-data.md.
OPEN_DATA_LICENCE = env_str("RENDAO_OPEN_DATA_LICENCE", "CC BY 4.0")
OPEN_DATA_LICENCE_URL = env_str(
    "RENDAO_OPEN_DATA_LICENCE_URL", "https://creativecommons.org/licenses/by/4.0/"
)
OPEN_DATA_ATTRIBUTION = env_str("RENDAO_OPEN_DATA_ATTRIBUTION", "厦门市红十字会 / rendao")

# --- API --------------------------------------------------------------------
# API rate limits as count/period (period s, m, h or d): anonymous clients per IP,
# signed-in callers (token or session) per user. Empty switches a limit off.
API_ANON_RATE = env_str("RENDAO_API_ANON_RATE", "120/m")
API_USER_RATE = env_str("RENDAO_API_USER_RATE", "600/m")

# --- Logging ----------------------------------------------------------------
# Log level of the platform's own loggers.
LOG_LEVEL = env_str("RENDAO_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "rendao": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "huey": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
