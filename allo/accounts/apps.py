from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "allo.accounts"
    label = "accounts"
    verbose_name = "Comptes et rôles"
