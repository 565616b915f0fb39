# syntax=docker/dockerfile:1
# Multi-stage: dependencies resolve from the lock file in a cached layer; the runtime image
# carries only the virtual environment and the code, and runs as an unprivileged user.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements-runtime.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install -r /tmp/requirements.lock

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/srv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production \
    WEB_CONCURRENCY=2 \
    PORT=8000
RUN groupadd --system peercoach && useradd --system --gid peercoach --home /srv peercoach
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
COPY --chown=peercoach:peercoach alembic.ini ./
COPY --chown=peercoach:peercoach migrations ./migrations
COPY --chown=peercoach:peercoach app ./app
USER peercoach
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
# Migrate, then serve (uvicorn, draining on SIGTERM: app/core/serving.py). DATABASE_URL and
# SECRET_KEY come from the environment.
CMD ["sh", "-c", "python -m app.cli migrate && exec python -m app.cli serve --host 0.0.0.0 --port ${PORT} --workers ${WEB_CONCURRENCY}"]
