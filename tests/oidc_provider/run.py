"""Start the test OpenID Connect provider: migrate its SQLite, create its users and Allô's client,
serve on 127.0.0.1:PORT until SIGTERM (the test stops it by its PID)."""

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["PROVIDER_CONFIG"] = str(Path(sys.argv[1]).resolve())
os.environ["DJANGO_SETTINGS_MODULE"] = "provider_settings"

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.servers.basehttp import run  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402


def main() -> None:
    config = json.loads(Path(os.environ["PROVIDER_CONFIG"]).read_text())
    call_command("migrate", verbosity=0)
    for user in config["users"]:
        User.objects.create_user(user["username"], email=user["email"], password=user["password"])
    client = config["client"]
    Application.objects.create(
        name="Allô", client_id=client["client_id"], client_secret=client["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=client["redirect_uri"], post_logout_redirect_uris=client["post_logout_redirect_uri"],
        algorithm=Application.RS256_ALGORITHM, skip_authorization=True)
    print("provider ready", flush=True)
    run("127.0.0.1", config["port"], get_wsgi_application(), threading=True)


if __name__ == "__main__":
    main()
