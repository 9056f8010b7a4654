from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "onboarding"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The audit log is onboarding's; it listens to sign-ins, so accounts needs no
        # import of it.
        # changes: model writes replace the shared version of the connections (api's
        # memory). Both modules connect receivers on import.
        from onboarding import changes, sign_in_audit  # noqa: F401
