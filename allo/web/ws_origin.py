"""The Origin check of WebSockets, told apart by how a client proves who it is.

A browser sends its session cookie to any site's page that opens a WebSocket here, and always sends
an Origin: the check against ALLOWED_HOSTS (Channels' AllowedHostsOriginValidator) is what stops
another site's page from using an agent's session (the desk, the wallboard). A token-authenticated
client (the telephony connector) is a server process: it sends no Origin, and its token, not an
ambient cookie, is its credential. On the paths of such clients a missing Origin is accepted; an
Origin that is sent (a page that got hold of a token) is still checked.
"""

from __future__ import annotations

from channels.security.websocket import AllowedHostsOriginValidator


class OriginCheck:
    def __init__(self, application, token_paths=()):
        self.application = application
        self.checked = AllowedHostsOriginValidator(application)
        self.token_paths = frozenset(token_paths)

    async def __call__(self, scope, receive, send):
        if scope.get("path") in self.token_paths and not any(
                name == b"origin" for name, _ in scope.get("headers", [])):
            return await self.application(scope, receive, send)
        return await self.checked(scope, receive, send)
