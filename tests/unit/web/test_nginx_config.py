"""`allo deploy nginx` (docs/deploy.md): the configuration it renders is one nginx accepts (`nginx -t`
on Debian's package, when installed), with the cache rules the production-layout test relies on; a
value that would inject directives is refused."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from django.core.management.base import CommandError

import allo
from allo.web.management.commands.deploy import render_nginx

NGINX = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


def _render(tmp_path, **overrides):
    values = {"server_name": "allo.example.gouv.fr", "upstream": "127.0.0.1:8000",
              "static_root": str(tmp_path / "static"), "cache_dir": str(tmp_path / "cache"),
              "ssl_certificate": str(tmp_path / "cert.pem"), "ssl_certificate_key": str(tmp_path / "key.pem"),
              "access_log": str(tmp_path / "access.log"), "views_log": str(tmp_path / "views.log")}
    return render_nginx(**(values | overrides))


def test_the_rendered_configuration_caches_public_pages_only(tmp_path):
    conf = _render(tmp_path)
    assert "{{" not in conf and "{%" not in conf
    assert "server 127.0.0.1:8000;" in conf and "listen 443 ssl http2;" in conf and "listen 80;" in conf
    page = conf[conf.index("    location / {"):]
    for directive in ("proxy_cache allo_pages;", "proxy_cache_lock on;", "proxy_cache_background_update on;",
                      "proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;",
                      "proxy_cache_bypass $allo_private_cookie $http_authorization;",
                      "proxy_no_cache $allo_private_cookie $http_authorization;",
                      'proxy_set_header X-Allo-Shared-Cache "renews-nonce logs-views";',
                      "proxy_hide_header Allo-Replay;",
                      f"access_log {tmp_path / 'views.log'} allo_views if=$allo_view;",
                      "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"):
        assert directive in page, directive
    # the API, the admin, the staff spaces and the WebSockets have locations without a cache
    assert conf.count("proxy_cache ") == 1
    api = re.search(r"location ~ \^/\(([^)]*)\)", conf).group(1).split("|")
    assert {"api", "admin", "healthz", "metrics", "connexion", "operateur", "supervision"} <= set(api)
    # no plain-HTTP server when asked for none; no views log: Allô counts the views itself
    assert "listen 80;" not in _render(tmp_path, http_port=0)
    unlogged = _render(tmp_path, views_log="off")
    assert 'X-Allo-Shared-Cache "renews-nonce";' in unlogged and "allo_views" not in unlogged


@pytest.mark.parametrize("field, value", [("server_name", "x; include /etc/passwd"), ("upstream", "a}"),
                                          ("static_root", '/srv/"static'), ("cache_dir", "")])
def test_a_value_that_would_change_the_configuration_is_refused(tmp_path, field, value):
    with pytest.raises(CommandError):
        _render(tmp_path, **{field: value})


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian's package `nginx`)")
def test_nginx_accepts_it(tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=x",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    (tmp_path / "allo.conf").write_text(_render(tmp_path, https_port=8443, http_port=8080))
    temp = tmp_path / "temp"
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'}; error_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{ client_body_temp_path {temp}; proxy_temp_path {temp}; fastcgi_temp_path {temp};\n"
        f"uwsgi_temp_path {temp}; scgi_temp_path {temp}; include {tmp_path / 'allo.conf'}; }}\n")
    checked = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian's package `nginx`)")
def test_with_the_web_processes_down_a_citizen_gets_a_french_page(tmp_path):
    from loopback import free_port

    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    (tmp_path / "static" / "web").mkdir(parents=True)
    shutil.copy(Path(allo.__file__).parent / "web" / "static" / "web" / "indisponible.html",
                tmp_path / "static" / "web")
    port = free_port()
    # nothing listens on the upstream's port: the web processes are down
    (tmp_path / "allo.conf").write_text(_render(tmp_path, upstream=f"127.0.0.1:{free_port()}", https_port=port,
                                                http_port=0))
    temp = tmp_path / "temp"
    (tmp_path / "nginx.conf").write_text(
        f"{'user root;' if os.geteuid() == 0 else ''} pid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{ client_body_temp_path {temp}; proxy_temp_path {temp}; fastcgi_temp_path {temp};\n"
        f"uwsgi_temp_path {temp}; scgi_temp_path {temp}; include {tmp_path / 'allo.conf'}; }}\n")
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
                             stderr=subprocess.PIPE, start_new_session=True)
    try:
        context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        context.check_hostname = False
        deadline = time.monotonic() + 10
        while True:
            try:
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
                conn.request("GET", "/fiches/F1234", headers={"Host": "allo.example.gouv.fr"})
                response = conn.getresponse()
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline and nginx.poll() is None, "nginx did not start"
                time.sleep(0.1)
        body = response.read().decode()
        assert response.status == 503 and response.getheader("Retry-After") == "30"
        assert '<html lang="fr">' in body and "Service momentanément indisponible" in body
    finally:
        nginx.terminate()
        nginx.wait(10)
