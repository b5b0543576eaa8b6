# One image for every process of a platform: web (gunicorn), worker and beat.
FROM python:3.11-slim

# PYTHONPATH: every process (manage.py, gunicorn, celery) runs the code in /app
# rather than pip's copy in site-packages.
# STATIC_ROOT: the collected static files belong to the image, outside the var
# volume (/app/var), so a rebuilt image serves its own files, not a stale copy.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    STATIC_ROOT=/app/static

WORKDIR /app

RUN useradd --system --create-home --home-dir /home/mooxsync --uid 10001 mooxsync

COPY . .

# The key is only needed to load the settings for collectstatic; it is not kept.
# The project extra adds the standalone's server stack (gunicorn, psycopg, ...).
RUN pip install -c requirements.lock '.[project]' \
    && rm -rf build ./*.egg-info \
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p var \
    && chown -R mooxsync:mooxsync var

USER mooxsync

EXPOSE 8000

# A digest request answers within SYNC_PAGE_SECONDS: gunicorn's default timeout serves.
CMD ["gunicorn", "mooxsync.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
