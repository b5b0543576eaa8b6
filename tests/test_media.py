"""The standalone serves uploaded files (such as platform thumbnails)."""

import pytest

from tests.factories import PlatformFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n thumbnail bytes"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.DEBUG = False
    return tmp_path


def test_an_uploaded_thumbnail_is_served_without_debug(client, media_root):
    folder = media_root / "platforms" / "thumbnails"
    folder.mkdir(parents=True)
    (folder / "a.png").write_bytes(PNG)
    PlatformFactory(thumbnail="platforms/thumbnails/a.png")

    response = client.get("/media/platforms/thumbnails/a.png")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_a_missing_file_answers_404(client, media_root):
    assert client.get("/media/platforms/thumbnails/gone.png").status_code == 404


def test_a_path_outside_media_root_is_refused(client, media_root):
    (media_root.parent / "secret.txt").write_text("not media")
    response = client.get("/media/../secret.txt")
    assert response.status_code == 400
    assert b"not media" not in response.content
