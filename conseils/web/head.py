"""HEAD answered wherever GET is (RFC 9110 §9.3.2): link checkers, calendar apps and
monitoring probes ask with HEAD, and Litestar answers 405 to a HEAD on a GET route.

The application runs the request as a GET and sends the same status and headers
(Content-Length included), without the body.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.types import Message, Receive, Scope, Send


def _without_body(send: Send) -> Send:
    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return  # the rest follows; the last part closes the response
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return send_headers_only


class HeadAsGet(Litestar):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}  # type: ignore[typeddict-item]
            send = _without_body(send)
        await super().__call__(scope, receive, send)
