"""Example content to sync: documents with files, for the demo and the tests."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Document(models.Model):
    """A titled document with an attachment and a cover, matched by its slug."""

    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=200)
    attachment = models.FileField(
        _("attachment"), upload_to="documents/", max_length=255, blank=True
    )
    # A FileField rather than an ImageField: an ImageField needs Pillow.
    cover = models.FileField(
        _("cover"), upload_to="covers/", max_length=255, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.title or self.slug
