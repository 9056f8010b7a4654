# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORTAL_VAR_DIR=/var/lib/portal

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin portal

WORKDIR /app
COPY . .
# Editable, so that the project's templates/ and static/ stay next to portal/.
RUN pip install -e . \
 && mkdir -p "$PORTAL_VAR_DIR" \
 # Static files are collected (hashed and compressed for whitenoise) at build
 # time; this throwaway key only lets the production settings load.
 && PORTAL_ENV=production PORTAL_ALLOWED_HOSTS=build \
    PORTAL_SECRET_KEY="build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    python manage.py collectstatic --noinput --verbosity 0 \
 && chown -R portal:portal "$PORTAL_VAR_DIR"

USER portal
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000"]
