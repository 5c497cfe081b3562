"""The registry of upload purposes: what may be uploaded for what, and who may read it.

Each feature that takes attachments registers a `Purpose` (or uses one of the
built-in ones below): the content types it accepts, its size and pixel limits,
whether photos lose their metadata, and the rule that says who may read an
attachment of that purpose. Services and views never decide these things
themselves; they ask the purpose.

    from rendao.uploads.purposes import Purpose, register
    register(Purpose(code="goods_receipt", label=_("Goods receipt"),
                     content_types=frozenset({PDF, JPEG, PNG}), max_bytes=5 * MiB,
                     read_perm=Perm.FINANCE_VIEW))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rendao.core import scope
from rendao.core.permissions import Perm

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from rendao.core.models import Branch, User
    from rendao.uploads.models import Attachment

KiB = 1024
MiB = 1024 * KiB

# The content types the validator knows how to check. A purpose may accept only
# these: a type without a checker below would be stored unexamined.
JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

IMAGE_TYPES = frozenset({JPEG, PNG, WEBP})
ZIP_TYPES = frozenset({XLSX, DOCX})
KNOWN_TYPES = IMAGE_TYPES | ZIP_TYPES | {PDF}

# File name extensions that may carry each type; the declared name must agree
# with the sniffed content.
EXTENSIONS: dict[str, frozenset[str]] = {
    JPEG: frozenset({".jpg", ".jpeg", ".jpe"}),
    PNG: frozenset({".png"}),
    WEBP: frozenset({".webp"}),
    PDF: frozenset({".pdf"}),
    XLSX: frozenset({".xlsx"}),
    DOCX: frozenset({".docx"}),
}

# Short names shown to people in error messages ("a PNG image").
TYPE_NAMES: dict[str, Promise] = {
    JPEG: gettext_lazy("a JPEG image"),
    PNG: gettext_lazy("a PNG image"),
    WEBP: gettext_lazy("a WebP image"),
    PDF: gettext_lazy("a PDF document"),
    XLSX: gettext_lazy("an Excel workbook (.xlsx)"),
    DOCX: gettext_lazy("a Word document (.docx)"),
}

AccessRule = Callable[["User | AnonymousUser", "Attachment"], bool]
UploadRule = Callable[["User", "Branch | None"], bool]


@dataclass(frozen=True)
class ZipLimits:
    """Bounds on an Office (ZIP) file, checked from its directory without extracting."""

    max_entries: int = 2_000
    max_uncompressed_bytes: int = 100 * MiB
    # Uncompressed / compressed per entry. XML compresses about 10–20×; a bomb
    # reaches thousands.
    max_ratio: int = 100


@dataclass(frozen=True)
class Purpose:
    code: str
    label: Promise | str
    content_types: frozenset[str]
    max_bytes: int
    # Width × height above which an image is refused before it is decoded.
    max_pixels: int = 25_000_000
    # Re-encode images without their metadata (EXIF with GPS location, XMP,
    # comments), after turning them upright by their EXIF orientation.
    strip_exif: bool = True
    # Staff holding this permission over the attachment's branch may read it
    # (the default access rule; see `default_may_read`).
    read_perm: Perm = Perm.ATTACHMENT_VIEW
    # Write an audit row each time someone other than the uploader reads one:
    # for attachments that are sensitive personal data (PIPL, proof documents).
    audit_reads: bool = False
    # A rule of the purpose's own, replacing the default; take (user, attachment).
    may_read: AccessRule | None = None
    # Who may upload at a branch (None: a personal attachment); replaces the
    # default, `default_may_upload`. Features whose public users attach files
    # to their own records (an aid application) register a rule that says so.
    may_upload: UploadRule | None = None
    zip_limits: ZipLimits = field(default_factory=ZipLimits)

    def __post_init__(self) -> None:
        unknown = self.content_types - KNOWN_TYPES
        if unknown:
            raise ValueError(f"purpose {self.code!r}: no validator for {sorted(unknown)}")
        if not self.content_types or self.max_bytes <= 0 or self.max_pixels <= 0:
            raise ValueError(f"purpose {self.code!r}: content types and limits must be set")

    def allows_read(self, user: User | AnonymousUser, attachment: Attachment) -> bool:
        rule = self.may_read or default_may_read
        return rule(user, attachment)

    def allows_upload(self, user: User, branch: Branch | None) -> bool:
        rule = self.may_upload or default_may_upload
        return rule(user, branch)

    def allowed_names(self) -> str:
        return ", ".join(sorted(str(TYPE_NAMES[t]) for t in self.content_types))


def default_may_read(user: User | AnonymousUser, attachment: Attachment) -> bool:
    """The uploader, and staff holding the purpose's permission over the branch."""
    if not user.is_authenticated or not user.is_active:
        return False
    if attachment.owner_id == user.pk:
        return True
    if attachment.branch is None:
        return False
    purpose = get_purpose_or_none(attachment.purpose)
    perm = purpose.read_perm if purpose is not None else Perm.ATTACHMENT_VIEW
    return scope.in_scope(user, perm, attachment.branch)


def default_may_upload(user: User, branch: Branch | None) -> bool:
    """Anyone signed in for themselves; staff holding attachment.manage at a branch."""
    if not user.is_authenticated or not user.is_active:
        return False
    if branch is None:
        return True
    return scope.in_scope(user, Perm.ATTACHMENT_MANAGE, branch)


_REGISTRY: dict[str, Purpose] = {}


def register(purpose: Purpose) -> Purpose:
    """Add a purpose; registering the same code twice is a programming error."""
    if purpose.code in _REGISTRY and _REGISTRY[purpose.code] != purpose:
        raise ValueError(f"upload purpose {purpose.code!r} is registered twice")
    _REGISTRY[purpose.code] = purpose
    return purpose


def get_purpose_or_none(code: str) -> Purpose | None:
    return _REGISTRY.get(code)


def get_purpose(code: str) -> Purpose:
    """The purpose with this code, or a ValidationError for the caller's input."""
    purpose = _REGISTRY.get(code)
    if purpose is None:
        raise ValidationError({"purpose": _("Unknown purpose for an upload.")}, code="purpose")
    return purpose


def purpose_label(code: str) -> str:
    """For display: the purpose's label, or its code if it is no longer registered."""
    purpose = _REGISTRY.get(code)
    return str(purpose.label) if purpose is not None else code


def all_purposes() -> list[Purpose]:
    return sorted(_REGISTRY.values(), key=lambda p: p.code)


def max_pixels_of_all() -> int:
    return max(p.max_pixels for p in _REGISTRY.values())


def guard_pillow() -> None:
    """Make Pillow's own decompression-bomb check a backstop at our largest limit.

    Each purpose's pixel limit is checked before decoding (`validation`); this
    global only matters for code that opens images some other way. Pillow warns
    above it and raises above twice it; the validator turns the warning into a
    refusal too.
    """
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels_of_all()


# --- Built-in purposes -----------------------------------------------------------
# Later features register their own in their apps' ready().

PROOF_DOCUMENT = register(
    Purpose(
        code="proof_document",
        label=gettext_lazy("Proof document"),
        content_types=frozenset({JPEG, PNG, PDF}),
        max_bytes=10 * MiB,
        max_pixels=25_000_000,
        # Proof of hardship or identity: readers are the reviewers of the branch.
        read_perm=Perm.REVIEW_DECIDE,
        audit_reads=True,
    )
)
PHOTO = register(
    Purpose(
        code="photo",
        label=gettext_lazy("Photo"),
        content_types=frozenset({JPEG, PNG, WEBP}),
        max_bytes=10 * MiB,
        # A 24-megapixel camera fits; a 50-megapixel bomb does not.
        max_pixels=25_000_000,
    )
)
CERTIFICATE = register(
    Purpose(
        code="certificate",
        label=gettext_lazy("Certificate"),
        content_types=frozenset({JPEG, PNG, PDF}),
        max_bytes=5 * MiB,
        max_pixels=25_000_000,
    )
)
SPREADSHEET_IMPORT = register(
    Purpose(
        code="spreadsheet_import",
        label=gettext_lazy("Spreadsheet to import"),
        content_types=frozenset({XLSX}),
        max_bytes=10 * MiB,
        zip_limits=ZipLimits(max_entries=1_000, max_uncompressed_bytes=200 * MiB, max_ratio=100),
    )
)
