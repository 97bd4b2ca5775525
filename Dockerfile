# syntax=docker/dockerfile:1
# One image recipe for every service, from the repository root:
#   docker build --build-arg SERVICE=intake -t fixflow/intake .
# The image runs `serve` by default; `migrate` (once per release, as its own container: the
# <service>-migrate service in docker-compose.yml, the <service>-migrate Job in deploy/kustomize),
# `await-migrations` and `healthcheck` are the other commands (fixflow_shared/cli.py).
# The deployment sets <SERVICE>_DATABASE_URL and <SERVICE>_HTTP_HOST=0.0.0.0 (see docker-compose.yml).

# python:3.11-slim-bookworm (Python 3.11.16), pinned by its multi-platform index digest as published
# on Docker Hub in August 2026. To move on: `docker buildx imagetools inspect python:3.11-slim-bookworm`
# and put the new index digest here (both stages use it).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

# --- build: a virtual environment with the service, shared and their pinned dependencies --------
FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<one of services/*>" >&2; exit 1; }
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
WORKDIR /app
COPY constraints.txt ./
COPY shared ./shared
COPY services/${SERVICE} ./services/${SERVICE}
# Editable installs keep alembic.ini and migrations/ beside the code, where `migrate` finds them;
# no extras: what tests and benchmarks need (dispatch's OR-Tools, the pytest plugin's) stays out.
RUN --mount=type=cache,target=/pip-cache \
    PIP_CACHE_DIR=/pip-cache /opt/venv/bin/pip install -c constraints.txt -e ./shared -e ./services/${SERVICE} \
    && ln -s /opt/venv/bin/fixflow-${SERVICE} /opt/venv/bin/fixflow-service \
    && /opt/venv/bin/python -m compileall -q /app/shared/src /app/services/${SERVICE}

# --- runtime: the same base, the environment and the code, no pip cache, a user without rights ---
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="fixflow-${SERVICE}"
ENV PATH=/opt/venv/bin:${PATH} PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 fixflow \
    && useradd --system --uid 10001 --gid fixflow --no-create-home --shell /usr/sbin/nologin fixflow
# insight's PDF report draws Chinese with Noto Sans CJK (Debian's fonts-noto-cjk); the others need no fonts.
RUN if [ "${SERVICE}" = "insight" ]; then \
        apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 CMD ["fixflow-service", "healthcheck"]
ENTRYPOINT ["fixflow-service"]
CMD ["serve"]
