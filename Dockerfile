# missionflow: the API, the worker and the migration job all run from this one image;
# docker-compose.yml picks the command (`missionflow api|worker|migrate`).
FROM python:3.11.16-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 missionflow \
    && useradd --system --uid 10001 --gid missionflow --create-home \
        --home-dir /home/missionflow --shell /usr/sbin/nologin missionflow

# WeasyPrint renders the report's PDF with Pango; DejaVu gives it fonts to render with.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

COPY pyproject.toml README.md ./
COPY missionflow/ missionflow/
COPY workflows/ workflows/
COPY activities/ activities/
COPY api/ api/
COPY email_templates/ email_templates/

# The source stays root-owned and read-only for the app; only its home is writable.
RUN pip install --no-cache-dir . \
    && rm -rf build ./*.egg-info \
    && install -d -o missionflow -g missionflow /app/.missionflow

USER missionflow

EXPOSE 8000

CMD ["missionflow", "api"]
