from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the key scheme with drf-spectacular (by subclassing, on import).
        from api import schema  # noqa: F401
