"""Drive the admin in headless Chromium against a live server.

Each test logs in through the login form, works through the pages a person
uses and leaves screenshots in test-artifacts/.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from platforms.conf import sync_settings
from platforms.models import Platform
from syncs.models import OutboxEvent, Sync
from tests.browser.conftest import browser_missing, script_errors
from tests.factories import (
    AdminFactory,
    PlatformFactory,
    SyncFactory,
    UserFactory,
    inbox_event,
    outbox_event,
)
from webhooks.models import InboxEvent

pytestmark = [
    pytest.mark.browser,
    browser_missing,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "secret-pass-123"  # AdminFactory's


def wait(browser, seconds: float = 10) -> WebDriverWait:
    return WebDriverWait(browser, seconds)


def log_in(browser, live_server) -> None:
    admin = AdminFactory(username="boss")
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.ID, "id_username").send_keys(admin.username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait(browser).until(EC.presence_of_element_located((By.ID, "user-tools")))


def submit(browser) -> None:
    browser.find_element(By.NAME, "_save").click()
    wait(browser).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".messagelist"))
    )


def add_platform(browser, live_server, *, name: str, domain: str) -> None:
    browser.get(f"{live_server.url}/admin/platforms/platform/add/")
    browser.find_element(By.ID, "id_name").send_keys(name)
    browser.find_element(By.ID, "id_domain").send_keys(domain)
    Select(browser.find_element(By.ID, "id_scheme")).select_by_value("http")
    submit(browser)


def status_text(browser, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def test_log_in_add_two_platforms_and_a_sync(
    browser, live_server, settings, screenshot
):
    log_in(browser, live_server)
    screenshot("1-index")
    add_platform(
        browser, live_server, name="Here", domain=sync_settings.SYNC_PLATFORM_DOMAIN
    )
    add_platform(browser, live_server, name="There", domain="there.test")
    screenshot("2-platforms")
    here = Platform.objects.get(name="Here")
    there = Platform.objects.get(name="There")
    assert here.is_current and here.api_token and there.api_token
    assert there.signing_secret == ""  # a new cluster signs with keys only

    browser.get(f"{live_server.url}/admin/syncs/sync/add/")
    Select(browser.find_element(By.ID, "id_source_platform")).select_by_value(
        str(here.pk)
    )
    # This platform's models arrive in the label's suggestions.
    wait(browser).until(
        lambda b: "models offered" in status_text(b, "id_source_model_status")
    )
    labels = browser.execute_script(
        "return [...document.getElementById('id_source_model_choices').options]"
        ".map(option => option.value);"
    )
    assert "auth.User" in labels
    browser.find_element(By.ID, "id_source_model").send_keys("auth.User")

    # The other platform cannot be reached here: the form says so, typing works.
    Select(browser.find_element(By.ID, "id_target_platform")).select_by_value(
        str(there.pk)
    )
    wait(browser).until(
        lambda b: "could not be reached" in status_text(b, "id_target_model_status")
    )
    assert "by hand" in status_text(browser, "id_target_model_status")
    browser.find_element(By.ID, "id_target_model").send_keys("auth.User")
    browser.find_element(By.ID, "id_field_mappings").send_keys("email=email")

    title = browser.find_element(By.ID, "id_title").get_attribute("placeholder")
    assert title == "a.test (auth.User) to there.test (auth.User)"
    browser.find_element(By.CSS_SELECTOR, ".sync-compat-check").click()
    wait(browser).until(
        lambda b: (
            "could not be reached"
            in b.find_element(By.CSS_SELECTOR, ".sync-compat-status").text
        )
    )
    assert script_errors(browser) == []
    screenshot("4-sync-form-compatibility")
    browser.execute_script(
        "document.getElementById('id_source_platform').scrollIntoView();"
    )
    screenshot("3-sync-form-models")

    submit(browser)
    screenshot("5-sync-saved")
    sync = Sync.objects.get()
    assert (sync.source_platform, sync.target_platform) == (here, there)
    assert sync.title == title
    assert sync.field_mappings == {"email": "email"}
    messages = browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    assert "The models could not be compared" in messages


def test_compatibility_is_shown_while_editing(browser, live_server, screenshot):
    here = PlatformFactory(name="Here", domain="a.test")
    sync = SyncFactory(
        source_platform=here,
        target_platform=here,
        source_model="auth.User",
        target_model="platforms.Platform",
    )
    log_in(browser, live_server)
    browser.get(f"{live_server.url}/admin/syncs/sync/{sync.pk}/change/")
    wait(browser).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, ".sync-compat-warnings li")
    )
    warnings = browser.find_element(By.CSS_SELECTOR, ".sync-compat-warnings").text
    assert "The source field username is missing on the target." in warnings
    suggested = browser.find_element(By.CSS_SELECTOR, ".sync-compat-suggested").text
    assert suggested == "date_joined=created_at"
    browser.find_element(By.CSS_SELECTOR, ".sync-compat-apply").click()
    value = browser.find_element(By.ID, "id_field_mappings").get_attribute("value")
    assert value == "date_joined=created_at"
    assert script_errors(browser) == []
    screenshot("compatibility")


def traffic() -> None:
    """Rows for the dashboard and the delivery logs, as delivery leaves them."""
    here = PlatformFactory(name="Here", domain="a.test")
    there = PlatformFactory(name="There", domain="there.test")
    ada = UserFactory(username="ada")
    out = SyncFactory(source_platform=here, target_platform=there, title="Users out")
    back = SyncFactory(
        source_platform=there,
        target_platform=here,
        title="Users back",
        has_errors=True,
        error_message="auth.User ['bob'] exists already.",
    )
    now = timezone.now()
    sent = {"object_pk": str(ada.pk), "next_attempt_at": now}
    for hours_ago in [0, 0, 1, 3, 3, 3, 7, 20]:
        row = outbox_event(out, ["ada"], status="delivered", attempts=1, **sent)
        created = now - timedelta(hours=hours_ago)
        OutboxEvent.objects.filter(pk=row.pk).update(
            created_at=created, delivered_at=created + timedelta(seconds=0.8)
        )
    outbox_event(
        out,
        ["ada"],
        status="dead",
        attempts=10,
        last_error="http://there.test/sync-webhook answered 503",
        **sent,
    )
    bob = {"username": "bob", "password": "pbkdf2_sha256$1$salt$hash"}
    for number, status in enumerate(["applied", "applied", "failed"], start=1):
        error = "IntegrityError" if status == "failed" else ""
        inbox_event(back, ["bob"], version=number, data=bob, status=status, error=error)


def test_dashboard_and_delivery_logs(browser, live_server, screenshot):
    traffic()
    log_in(browser, live_server)
    browser.get(f"{live_server.url}/admin/")
    chart = browser.find_element(By.CSS_SELECTOR, "svg.sync-chart")
    assert chart.find_elements(By.CSS_SELECTOR, "rect")
    failing = browser.find_element(By.CSS_SELECTOR, '[data-figure="syncs-failing"]')
    assert failing.text == "1"
    screenshot("1-dashboard")

    browser.get(f"{live_server.url}/admin/syncs/outboxevent/")
    assert "answered 503" in browser.find_element(By.ID, "result_list").text
    screenshot("2-outbox")
    row = OutboxEvent.objects.filter(status="dead").get()
    browser.get(f"{live_server.url}/admin/syncs/outboxevent/{row.pk}/change/")
    payload = browser.find_element(By.CSS_SELECTOR, ".sync-payload").text
    assert '"password": "••••"' in payload
    assert '"username": "ada"' in payload
    screenshot("3-outbox-event")

    browser.get(f"{live_server.url}/admin/webhooks/inboxevent/")
    screenshot("4-inbox")
    failed = InboxEvent.objects.get(status="failed")
    browser.get(f"{live_server.url}/admin/webhooks/inboxevent/{failed.pk}/change/")
    data = browser.find_element(By.CSS_SELECTOR, ".sync-payload").text
    assert '"password": "••••"' in data
    assert "pbkdf2" not in data
    screenshot("5-inbox-event")
