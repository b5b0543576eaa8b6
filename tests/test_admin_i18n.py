import pytest
from django.urls import reverse
from django.utils import translation

from syncs.models import Sync
from tests.factories import SyncFactory, inbox_event, outbox_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def german(admin_client):
    """Fetch admin pages as a browser asking for German."""

    def get(url, **params):
        return admin_client.get(url, params, HTTP_ACCEPT_LANGUAGE="de")

    yield get
    # LocaleMiddleware leaves the request's language active in this thread.
    translation.deactivate()


def test_the_dashboard_speaks_german(german, current_platform):
    html = german(reverse("admin:index")).content.decode()
    assert '<html lang="de"' in html
    assert "Synchronisierungs-Übersicht" in html
    assert "Ereignisse pro Stunde" in html
    assert "Letzter erfolgreicher Kontakt je Plattform" in html
    assert "Synchronisierungen" in html  # the syncs app in the app list


def test_the_sync_form_speaks_german(german, current_platform):
    html = german(reverse("admin:syncs_sync_add")).content.decode()
    for text in [
        "Quellplattform",
        "Zielmodell",
        "Feldzuordnungen",
        "Eine Zuordnung pro Zeile: quellfeld=zielfeld.",
        "Kompatibilität prüfen",
        "Leer lassen, um ihn aus Quelle und Ziel zu erzeugen.",
    ]:
        assert text in html


def test_the_sync_list_offers_its_actions_in_german(german):
    SyncFactory()
    html = german(reverse("admin:syncs_sync_changelist")).content.decode()
    assert "Jetzt synchronisieren (Abgleich der ausgewählten Synchronisierungen)" in (
        html
    )
    assert "Quelle" in html


def test_the_delivery_logs_and_platforms_speak_german(german):
    sync = SyncFactory()
    outbox_event(sync, ["ada"], event_type="created")
    inbox_event(sync, ["ada"], event_type="created")
    outbox = german(reverse("admin:syncs_outboxevent_changelist")).content.decode()
    inbox = german(reverse("admin:webhooks_inboxevent_changelist")).content.decode()
    platforms = german(reverse("admin:platforms_platform_changelist")).content.decode()
    assert "Ausgangsereignis" in outbox
    assert "Jetzt erneut versuchen" in outbox
    assert "Fehlgeschlagene Ereignisse erneut versuchen" in inbox
    assert "Plattformen jetzt synchronisieren" in platforms


def test_model_names_and_messages_are_translated():
    with translation.override("de"):
        assert str(Sync._meta.verbose_name_plural) == "Synchronisierungen"
        assert str(Sync._meta.get_field("source_platform").verbose_name) == (
            "Quellplattform"
        )
        assert str(Sync.IfExists.SKIP.label) == "den Datensatz überspringen"


def test_a_platforms_signing_keys_are_listed_in_german(german, current_platform):
    from platforms.keys import platform_key_issue

    platform_key_issue(platform=current_platform)
    url = reverse("admin:platforms_platform_change", args=[current_platform.pk])
    html = german(url).content.decode().lower()  # column titles are capitalised
    for text in ["signaturschlüssel", "öffentlicher schlüssel", "zuletzt hier benutzt"]:
        assert text in html
