from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "allo.accounts"
    label = "accounts"
    verbose_name = "Comptes et rôles"

    def ready(self):
        from allo.accounts import audit  # noqa: F401 - connects the sign-in audit to the auth signals
