"""The Voila server simkit runs: Voila itself, plus ``/metrics`` and HTTPS.

``python -m simkit.dashboard.voila_app`` takes Voila's command line (it is
:class:`voila.app.Voila` with two additions), so every setting of
:mod:`simkit.dashboard.server` applies unchanged:

* ``/metrics`` serves simkit's metrics in Prometheus' text format.  The dashboard's
  kernels are separate processes, so the metrics are kept in prometheus_client's
  multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, a private folder set by
  ``simkit dashboard``) and summed over every kernel here.  When the dashboard has a
  token, ``/metrics`` needs it too (``Authorization: token ...`` or ``Bearer ...``, or
  ``?token=``), compared in constant time.
* ``--SimkitVoila.certfile`` / ``--SimkitVoila.keyfile``: serve HTTPS (Voila itself has no
  TLS option).
* the access token is compared in constant time (:class:`SimkitIdentityProvider`;
  jupyter_server's own provider compares with ``==``, whose time can leak how much of a
  guess is right), and the login form takes the token only (no password to set).
"""

from __future__ import annotations

import functools
import hmac
import inspect
import os
import ssl
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from tornado import web
from traitlets import Type, Unicode
from voila.app import Voila

from simkit import metrics

__all__ = ["MetricsHandler", "SimkitIdentityProvider", "SimkitVoila", "main", "token_matches"]


def token_matches(given: str | None, expected: str | None) -> bool:
    """Whether ``given`` is the dashboard token (constant time; no token set: True)."""
    if not expected:
        return True
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class SimkitIdentityProvider(PasswordIdentityProvider):
    """jupyter_server's token identity, with every token comparison in constant time."""

    async def get_user_token(self, handler: Any) -> Any:
        token = handler.token
        if not token:
            return None
        if not token_matches(self.get_token(handler), token):
            return None
        user = self.get_user_cookie(handler)
        if inspect.isawaitable(user):
            user = await user
        return user if user is not None else self.generate_anonymous_user(handler)

    def process_login_form(self, handler: Any) -> Any:
        if not self.auth_enabled:
            return super().process_login_form(handler)
        typed = handler.get_argument("password", default="")
        if self.token and token_matches(typed, self.token):
            return self.generate_anonymous_user(handler)
        return None


class MetricsHandler(web.RequestHandler):
    """``GET /metrics``: simkit's metrics, summed over the server and its kernels."""

    def _given_token(self) -> str | None:
        header = self.request.headers.get("Authorization", "")
        for scheme in ("token ", "bearer "):
            if header.lower().startswith(scheme):
                return header[len(scheme) :].strip()
        return self.get_query_argument("token", None)

    def get(self) -> None:
        if not token_matches(self._given_token(), os.environ.get("JUPYTER_TOKEN")):
            raise web.HTTPError(403)
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if folder:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=folder)
            body = generate_latest(registry)
        else:
            body = metrics.exposition()
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.set_header("Cache-Control", "no-store")
        self.finish(body)


class SimkitVoila(Voila):
    """Voila with ``/metrics`` and optional TLS."""

    name = "simkit-voila"
    identity_provider_class = Type(
        default_value=SimkitIdentityProvider,
        klass=IdentityProvider,
        config=True,
        help="The identity provider (constant-time token checks).",
    )
    certfile = Unicode("", config=True, help="PEM certificate: serve HTTPS")
    keyfile = Unicode("", config=True, help="PEM private key of the certificate")

    def init_handlers(self) -> list[Any]:
        handlers = super().init_handlers()
        return [(self.server_url.rstrip("/") + "/metrics", MetricsHandler), *handlers]

    def listen(self) -> None:
        if self.certfile:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(self.certfile, self.keyfile or None)
            self.app.listen = functools.partial(self.app.listen, ssl_options=context)
        super().listen()


main = SimkitVoila.launch_instance

if __name__ == "__main__":
    main()
