# syntax=docker/dockerfile:1
# Everruns: one image for the web process (the default command), the task worker and the one-shot migration
# (docker-compose.yml shows all three). Build: docker build -t everruns .
#
# Stage 1 installs the locked runtime dependencies (requirements.txt: exported from uv.lock with hashes,
# `make lock`) into a virtualenv; stage 2 copies that virtualenv and the code onto a clean slim image and
# runs as an unprivileged user. Every dependency ships wheels for linux/amd64 and arm64 (psycopg[binary],
# cryptography, argon2-cffi, regex), so no compiler is needed.
ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /venv \
    && /venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.txt

FROM python:${PYTHON_VERSION}-slim AS runtime
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/var \
    STATIC_ROOT=/app/static
RUN groupadd --system --gid 10001 everruns \
    && useradd --system --uid 10001 --gid everruns --home-dir /app --no-create-home --shell /usr/sbin/nologin everruns
WORKDIR /app
COPY --from=build /venv /venv
COPY manage.py gunicorn.conf.py pyproject.toml ./
COPY everruns ./everruns
COPY apps ./apps
COPY scripts ./scripts
# Static files (admin, the offline Swagger UI) are collected at build time; the web process serves them.
# DEBUG=1 only lets this build step start without a SECRET_KEY; nothing else runs at build time.
RUN DEBUG=1 DATA_DIR=/tmp/build-var python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var \
    && chown everruns:everruns /app/var
USER everruns:everruns
EXPOSE 8000
# Liveness of the web process (the compose file and Kubernetes use /health and /ready: docs/deploy.md).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["python", "scripts/healthcheck.py", "/health"]
CMD ["gunicorn", "everruns.wsgi", "-c", "gunicorn.conf.py"]
