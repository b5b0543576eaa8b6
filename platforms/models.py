"""Platforms (the Django sites of a cluster) and the platforms a record belongs to."""

import uuid

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import FileExtensionValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from platforms.conf import sync_settings
from platforms.credentials import SECRET_PREFIX

domain_validator = RegexValidator(
    regex=r"^(?=.{1,253}(:|$))[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$",
    message=_("Enter a host name, optionally with a port (example.com:8000)."),
)
secret_validator = RegexValidator(
    regex=rf"^{SECRET_PREFIX}[A-Za-z0-9+/=]{{24,}}$",
    message=_("A signing secret looks like whsec_ followed by base64."),
)


class Platform(models.Model):
    """A Django site of the cluster; one row per platform on every platform."""

    class Scheme(models.TextChoices):
        HTTPS = "https", "https"
        HTTP = "http", "http"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=255, unique=True)
    domain = models.CharField(
        _("domain"),
        max_length=255,
        unique=True,
        validators=[domain_validator],
        help_text=_("Host name, optionally with a port: sync.example.com:8000"),
    )
    scheme = models.CharField(
        _("scheme"), max_length=5, choices=Scheme.choices, default=Scheme.HTTPS
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    thumbnail = models.FileField(
        _("thumbnail"),
        upload_to="platforms/thumbnails/",
        blank=True,
        validators=[
            FileExtensionValidator(["jpg", "jpeg", "png", "gif", "svg", "webp"])
        ],
    )
    api_token = models.CharField(
        _("API token"),
        max_length=80,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Bearer token this platform uses to call the API."),
    )
    signing_secret = models.CharField(
        _("signing secret"),
        max_length=100,
        blank=True,
        validators=[secret_validator],
        help_text=_(
            "The shared-secret scheme's whsec_ secret, only while a cluster "
            "upgrades from it (docs/joining.md); empty in a new cluster."
        ),
    )
    master = models.BooleanField(_("master"), default=False)
    locked = models.BooleanField(_("locked"), default=False)
    lock_reason = models.CharField(_("lock reason"), max_length=255, blank=True)
    show_in_menu = models.BooleanField(_("show in menu"), default=False)
    order = models.PositiveIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("platform")
        verbose_name_plural = _("platforms")
        constraints = [
            models.UniqueConstraint(
                fields=["master"],
                condition=Q(master=True),
                name="platforms_platform_single_master",
                violation_error_message=_("Another platform is already the master."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.domain = self.domain.lower()
        if self.api_token == "":
            self.api_token = None  # several platforms may have no token yet
        super().save(*args, **kwargs)

    @property
    def base_url(self) -> str:
        """Return the URL the platform is reached at, without a trailing slash."""
        return f"{self.scheme}://{self.domain}"

    @property
    def host(self) -> str:
        """Return the domain without its port."""
        return self.domain.rsplit(":", 1)[0]

    @property
    def has_token(self) -> bool:
        return bool(self.api_token)

    @property
    def is_current(self) -> bool:
        """Tell whether this row is the platform this process runs as."""
        return self.domain == sync_settings.SYNC_PLATFORM_DOMAIN.lower()


class PlatformKeyQuerySet(models.QuerySet):
    def active(self, now=None) -> "PlatformKeyQuerySet":
        """Keys that verify now: not retired yet."""
        now = now or timezone.now()
        return self.filter(Q(retires_at=None) | Q(retires_at__gt=now))

    def signing(self, now=None) -> "PlatformKeyQuerySet":
        """Active keys whose private half is here (a platform's own keys)."""
        return self.active(now).exclude(private_key="")


class PlatformKey(models.Model):
    """An Ed25519 key pair a platform signs its requests with.

    Every platform holds every platform's public keys (the master pushes them)
    and only its own private keys: it can verify any peer and sign only as
    itself. The master issues the keys and forgets a private key once its
    platform has it. After a rotation the old key verifies until ``retires_at``.
    """

    platform = models.ForeignKey(
        Platform,
        on_delete=models.CASCADE,
        related_name="keys",
        verbose_name=_("platform"),
    )
    public_key = models.CharField(_("public key"), max_length=60, unique=True)
    private_key = models.CharField(_("private key"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("issued"), default=timezone.now)
    retires_at = models.DateTimeField(
        _("retires"),
        null=True,
        blank=True,
        help_text=_("After this the key no longer verifies (set by a rotation)."),
    )
    last_used_at = models.DateTimeField(
        _("last used here"),
        null=True,
        blank=True,
        help_text=_("When a request signed with it was last accepted here."),
    )

    objects = PlatformKeyQuerySet.as_manager()

    class Meta:
        ordering = ["platform", "-created_at"]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")

    def __str__(self) -> str:
        return f"{self.platform}: {self.public_key[:13]}…"


class PlatformRelation(models.Model):
    """A record belongs to a platform (Moox's model_platform table)."""

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.CharField(max_length=255)
    record = GenericForeignKey("content_type", "object_id")
    platform = models.ForeignKey(
        Platform, on_delete=models.CASCADE, related_name="record_relations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("platform relation")
        verbose_name_plural = _("platform relations")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "platform"],
                name="platforms_relation_unique",
            ),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        label = f"{self.content_type.app_label}.{self.content_type.model}"
        return f"{label}#{self.object_id} -> {self.platform}"
