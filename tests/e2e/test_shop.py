"""The example shop (examples/shop) with Moox Sync installed from its wheel.

Two shops, each run from a fresh virtualenv holding only the wheel and the
shop's requirements: gunicorn and a Celery worker with beat each, their own
database and broker. They are connected by the steps of examples/shop/README.md
and docs/joining.md, taken literally: install both, add B on the master A
through the API, push the platforms, create the syncs on A, which A pushes to B.
The tests run in order; each starts from the state the one before left.
"""

import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from harness.cluster import E2E_ENV
from harness.processes import wait_for
from harness.sites import (
    SHOP_SOURCE,
    SiteProcess,
    site_broker_url,
    site_database_url,
    site_drivers,
    site_venv,
    wheel_build,
)

pytestmark = pytest.mark.e2e

ADMIN_PASSWORD = "shop-admin-pw-4711"
TOKEN = secrets.token_urlsafe(48)
# Label -> field mappings. Users name their groups by natural key: groups
# travel too. A user's password and staff flag are written on B only where a
# mapping names them (SYNC_PRIVILEGED_FIELDS); carol needs both to sign in.
SYNCED_MODELS = {
    "auth.Group": {},
    "auth.User": {"password": "password", "is_staff": "is_staff"},
    "catalog.Category": {},
    "catalog.Tag": {},
    "catalog.Product": {},
}
REDIS_DATABASES = {"a": 2, "b": 3}
PRODUCT_STATE = """
import hashlib, json
from catalog.models import Product

def state(slug):
    p = Product.objects.filter(slug=slug).first()
    return p and {
        "name": p.name,
        "price": str(p.price),
        "category": p.category.slug,
        "tags": sorted(p.tags.values_list("slug", flat=True)),
        "image": p.image.name and image_hash(p.image),
    }

def image_hash(image):
    with image.open("rb"):
        return hashlib.sha256(image.read()).hexdigest()
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("shop")


@pytest.fixture(autouse=True)
def _logs_on_failure(request, folder):
    """Print the shops' process logs when a test (or its set-up) fails."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed == failed:
        return
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for log in sorted(folder.glob("*/logs/*.log")):
            print(f"\n--- {log.relative_to(folder)} (last 20000 characters) ---")
            print(log.read_text(errors="replace")[-20000:])


@pytest.fixture(scope="module")
def shop_bin(folder):
    """A fresh virtualenv with the wheel and the shop's requirements: its bin/."""
    wheel = wheel_build(folder / "wheel")
    requirements = str(SHOP_SOURCE / "requirements.txt")
    return site_venv(folder / "venv", str(wheel), "-r", requirements, *site_drivers())


@pytest.fixture(scope="module")
def shops(folder, shop_bin):
    """Shops A (the master) and B, installed, running and connected."""
    project = folder / "project"
    shutil.copytree(
        SHOP_SOURCE, project, ignore=shutil.ignore_patterns("var", "__pycache__")
    )
    a, b = (_shop(key, project, shop_bin, folder) for key in "ab")
    try:
        _in_parallel(lambda: _install(a, "--master"), lambda: _install(b))
        # B's worker has nothing to do before B has joined (see _join).
        _in_parallel(a.start, b.web_start)
        _join(a, b)
        yield a, b
    finally:
        _in_parallel(a.stop, b.stop)


def _in_parallel(*calls) -> None:
    with ThreadPoolExecutor() as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()


def _shop(key: str, project, shop_bin, folder) -> SiteProcess:
    shop = SiteProcess(key, project, shop_bin, "shop", folder / key)
    shop.env |= E2E_ENV | {
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SHOP_VAR_DIR": str(shop.folder),
        "DATABASE_URL": site_database_url(
            f"mooxsync_shop_{key}", shop.folder, shop_bin / "python"
        ),
        # The cluster's token, set on the master and on a platform joining it.
        "SYNC_TOKEN": TOKEN,
        "FILE_SYNC_ENABLED": "true",
    }
    if broker := site_broker_url(REDIS_DATABASES[key]):
        shop.env["CELERY_BROKER_URL"] = broker
    return shop


def _install(shop: SiteProcess, *flags: str) -> None:
    """Migrate and install Moox Sync with an admin user (the README's steps)."""
    shop.manage("migrate", "--noinput")
    out = shop.manage(
        "mooxsync_install",
        "--scheme",
        "http",
        "--admin-username",
        "admin",
        "--noinput",
        *flags,
        DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
    )
    assert f"Created platform {shop.domain}" in out, out
    shop.manage("collectstatic", "--noinput")
    # Every step of the README done: no system check has anything to say.
    out = shop.manage("check")
    assert "System check identified no issues" in out, out


def _join(a: SiteProcess, b: SiteProcess) -> None:
    """Add B on A, push the platforms, create A's syncs; A pushes them to B."""
    admin = admin_session(a, "admin", ADMIN_PASSWORD)
    added = api_post(
        admin, a, "/api/platforms/", name="Shop B", domain=b.domain, scheme="http"
    )
    out = a.manage("sync_platforms")
    assert f"{b.domain}: ok: 1 created, 1 updated, 0 deleted" in out, out

    own = admin.get(a.url + "/api/platforms/", params={"domain": a.domain}).json()
    for label, mappings in SYNCED_MODELS.items():
        api_post(
            admin,
            a,
            "/api/syncs/",
            title=label,
            source_platform=own["results"][0]["id"],
            source_model=label,
            target_platform=added["id"],
            target_model=label,
            field_mappings=mappings,
        )
    titles = (
        "from syncs.models import Sync; import json; "
        "print(json.dumps(sorted(Sync.objects.values_list('title', flat=True))))"
    )
    wait_for("A's syncs on B", lambda: b.python(titles) == sorted(SYNCED_MODELS))

    # Joined: B no longer needs the cluster's token (docs/joining.md, step 5).
    b.web_stop()
    del b.env["SYNC_TOKEN"]
    b.start()


def admin_session(shop: SiteProcess, username: str, password: str):
    """Sign in to the shop's admin over HTTP; return the session."""
    session = requests.Session()
    session.get(shop.url + "/admin/login/", timeout=10).raise_for_status()
    answer = session.post(
        shop.url + "/admin/login/?next=/admin/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        timeout=10,
    )
    assert answer.status_code == 200 and answer.url == shop.url + "/admin/", (
        f"{username} could not sign in to {shop.key}'s admin: "
        f"{answer.status_code} {answer.url}"
    )
    return session


def api_post(session, shop: SiteProcess, path: str, **data) -> dict:
    """POST to the shop's API as the signed-in staff user."""
    answer = session.post(
        shop.url + path,
        json=data,
        headers={"X-CSRFToken": session.cookies["csrftoken"]},
        timeout=30,
    )
    assert answer.status_code == 201, f"POST {path}: {answer.status_code} {answer.text}"
    return answer.json()


def product_state(shop: SiteProcess, slug: str):
    """Return a product's fields as B should see them, or None if it is missing."""
    return shop.python(PRODUCT_STATE + f"print(json.dumps(state({slug!r})))")


def slugs(shop: SiteProcess, model: str) -> list[str]:
    return shop.python(
        f"from catalog.models import {model}; import json; "
        f"print(json.dumps(sorted({model}.objects.values_list('slug', flat=True))))"
    )


def password_hash(shop: SiteProcess, username: str) -> str:
    return shop.python(
        "from django.contrib.auth.models import User; import json; print(json.dumps("
        f"User.objects.get(username={username!r}).password))"
    )


def test_admin_index_lists_sync_models_beside_the_catalog(shops):
    a, b = shops
    sessions = {a: admin_session(a, "admin", ADMIN_PASSWORD)}
    # Signing in saves the user: A's admin, password hash included, replaces
    # B's (which logs B's admin out). Sign in to B once that has happened.
    wait_for(
        "A's admin user on B",
        lambda: password_hash(b, "admin") == password_hash(a, "admin"),
    )
    sessions[b] = admin_session(b, "admin", ADMIN_PASSWORD)
    for shop, session in sessions.items():
        index = session.get(shop.url + "/admin/", timeout=10)
        assert index.status_code == 200
        for name in [
            "Platforms",
            "Syncs",
            "Outbox events",
            "Inbox events",
            "Categories",
            "Products",
            "Tags",
            "Users",
            "Groups",
        ]:
            assert f">{name}</a>" in index.text, f"{shop.key}'s admin lacks {name}"
        assert session.get(shop.url + "/api/schema/", timeout=30).status_code == 200


def test_catalog_changes_on_a_appear_on_b(shops):
    a, b = shops
    a.python(
        "import io\n"
        "from PIL import Image\n"
        "from django.core.files.base import ContentFile\n"
        "from catalog.models import Category, Product, Tag\n"
        "shoes = Category.objects.create(name='Shoes', slug='shoes')\n"
        "Category.objects.create(name='Hats', slug='hats')\n"
        "new, _, summer = (Tag.objects.create(name=s.title(), slug=s)\n"
        "                  for s in ('new', 'sale', 'summer'))\n"
        "png = io.BytesIO()\n"
        "Image.new('RGB', (8, 8), 'teal').save(png, 'PNG')\n"
        "p = Product(name='Runner', slug='runner', category=shoes, price='59.90')\n"
        "p.image.save('runner.png', ContentFile(png.getvalue()), save=False)\n"
        "p.save()\n"
        "p.tags.set([new, summer])\n"
    )
    created = product_state(a, "runner")
    assert created["image"]
    wait_for(
        "the product with its image on B",
        lambda: product_state(b, "runner") == created,
    )
    assert slugs(b, "Category") == ["hats", "shoes"]
    assert slugs(b, "Tag") == ["new", "sale", "summer"]

    a.python(
        "from catalog.models import Category, Product, Tag\n"
        "p = Product.objects.get(slug='runner')\n"
        "p.name, p.price = 'Runner Pro', '49.90'\n"
        "p.category = Category.objects.get(slug='hats')\n"
        "p.save()\n"
        "p.tags.set([Tag.objects.get(slug='sale')])\n"
    )
    changed = created | {
        "name": "Runner Pro",
        "price": "49.90",
        "category": "hats",
        "tags": ["sale"],
    }
    wait_for("the changed product on B", lambda: product_state(b, "runner") == changed)

    a.python(
        "from catalog.models import Category, Product\n"
        "Product.objects.get(slug='runner').delete()\n"
        "Category.objects.get(slug='shoes').delete()\n"
    )
    wait_for("the product to go from B", lambda: product_state(b, "runner") is None)
    wait_for("the category to go from B", lambda: slugs(b, "Category") == ["hats"])


def test_user_created_on_a_signs_in_on_b(shops):
    a, b = shops
    a.python(
        "from django.contrib.auth.models import Group, User\n"
        "carol = User.objects.create_user('carol', 'carol@shop.test',\n"
        "                                 'carol-pw-2718', is_staff=True)\n"
        "carol.groups.add(Group.objects.create(name='editors'))\n"
    )
    user = (
        "from django.contrib.auth.models import User; import json; "
        "u = User.objects.filter(username='carol').first(); print(json.dumps("
        "u and sorted(u.groups.values_list('name', flat=True))))"
    )
    wait_for("carol on B in group editors", lambda: b.python(user) == ["editors"])

    session = admin_session(b, "carol", "carol-pw-2718")

    assert "carol" in session.get(b.url + "/admin/", timeout=10).text


def test_sync_backup_repairs_drift_that_no_signal_saw(shops):
    a, b = shops
    a.python(
        "from catalog.models import Category, Product\n"
        "Product.objects.create(name='Cap', slug='cap', price='15.00',\n"
        "                       category=Category.objects.get(slug='hats'))\n"
    )
    before = wait_for("the cap on B", lambda: product_state(b, "cap"))
    a.python(
        "from catalog.models import Product\n"
        "Product.objects.filter(slug='cap').update(price='12.50', name='Sale')\n"
    )
    assert product_state(b, "cap") == before  # QuerySet.update() sends nothing

    out = a.manage("sync_backup")

    report = next(line for line in out.splitlines() if "(catalog.Product)" in line)
    assert "created 0, updated 1, deleted 0" in report, out
    wait_for(
        "the backup's repair on B",
        lambda: product_state(b, "cap") == before | {"price": "12.50", "name": "Sale"},
    )
