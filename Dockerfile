# zongzhi: one image for the web server, the Celery worker and beat (docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=zongzhi.settings.production \
    ZONGZHI_VAR_DIR=/app/var \
    MEDIA_ROOT=/data/media

RUN groupadd --system --gid 10001 zongzhi \
    && useradd --system --uid 10001 --gid zongzhi --home-dir /app --shell /usr/sbin/nologin zongzhi

# pg_dump / pg_restore for `manage.py backup` and `restore` (same major version as the db service).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first (from pyproject.toml), so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps -e . \
    # Static files are collected into the image and served by WhiteNoise. The secrets here exist
    # only for this build step; the real ones come from the environment at run time.
    && DJANGO_SECRET_KEY=collectstatic-only FIELD_ENCRYPTION_KEYS=collectstatic-only \
       FIELD_HASH_KEY=collectstatic-only REDIS_URL=redis://localhost:6379/0 \
       python manage.py collectstatic --noinput -v0 \
    && mkdir -p /data/media /app/var \
    && chown -R zongzhi:zongzhi /data/media /app/var

USER zongzhi
EXPOSE 8000

CMD ["gunicorn", "zongzhi.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
