from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rendao.privacy.fields import BlindIndexField, EncryptedTextField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(username=username, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: a member of the public or a staff member.

    Public users sign in with a mobile number and an SMS code; staff with a
    password and a TOTP code. What a user may do as staff comes only from their
    memberships (branch, role), never from flags on this row. `is_staff` is
    Django's "may open /admin/", kept for system administrators alone.
    """

    username = models.CharField(_("username"), max_length=150, unique=True)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    # E.164 form, sealed in the personal-data vault; found only through its
    # blind index (`User.objects.filter(mobile_index=index_for("mobile", e164))`),
    # which also keeps one account per number.
    mobile = EncryptedTextField(_("mobile number"), null=True, blank=True)
    mobile_index = BlindIndexField(source="mobile", purpose="mobile", unique=True)
    email = models.EmailField(_("email address"), blank=True)
    is_staff = models.BooleanField(
        _("admin site access"),
        default=False,
        help_text=_("May open the system configuration site. System administrators only."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Demo accounts may have their current TOTP code printed by `rendao totp`.
    is_demo = models.BooleanField(_("demo account"), default=False, editable=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class SignInCode(models.Model):
    """A one-time SMS code for a public sign-in.

    Neither the number nor the code is stored: the number as a keyed digest (to
    count sends per number), the code as a keyed digest bound to this row.
    """

    phone_digest = models.CharField(max_length=64, db_index=True)
    code_digest = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("sign-in code")
        verbose_name_plural = _("sign-in codes")

    def __str__(self) -> str:
        return f"sign-in code {self.pk}"


class LoginAttempt(models.Model):
    """One staff password sign-in attempt, kept to throttle guessing."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, db_index=True)
    succeeded = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("sign-in attempt")
        verbose_name_plural = _("sign-in attempts")

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"
