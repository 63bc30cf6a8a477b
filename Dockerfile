# syntax=docker/dockerfile:1.7
# Evently Hub image, built with uv from the lock file.
#   runtime  (default): the hub; `evently serve --host 0.0.0.0 --port 8000`
#   loadtest          : the same plus the dev group (Locust) for the load-test services
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS base
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PYTHONUNBUFFERED=1
WORKDIR /app
RUN groupadd --system evently && useradd --system --gid evently --home-dir /app evently

FROM base AS runtime
# Dependencies first: this layer is rebuilt only when the lock changes.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project
COPY . /app
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev && chown -R evently:evently /app
ENV PATH="/app/.venv/bin:$PATH" \
    EVENTLY_DATA_DIR=/app/.evently
USER evently
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["evently", "serve", "--host", "0.0.0.0", "--port", "8000"]

FROM runtime AS loadtest
USER root
# The out dir exists in the image so that a fresh named volume mounted there is writable.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --group e2e && mkdir -p /app/loadtest/out && chown -R evently:evently /app
USER evently
EXPOSE 8089 5557
CMD ["locust", "-f", "loadtest/locustfile.py"]
