"""Loopback only by default: other addresses are refused unless Settings allow them and the token matches.

The "other address" is this machine's own non-loopback interface: requests never leave the machine.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request

import psutil
import pytest

from rlm_desktop.errors import ServiceError
from rlm_desktop.service.security import AccessPolicy, GuardMiddleware, is_loopback, new_token


def own_non_loopback_address() -> str:
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not is_loopback(address.address):
                return address.address
    pytest.skip("this machine has no non-loopback IPv4 interface to listen on")


def get(url: str, token: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_loopback_addresses():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.4.5.6", "::1", "::ffff:127.0.0.1", "localhost"))
    assert not any(is_loopback(h) for h in ("192.0.2.2", "10.0.0.1", "::", "0.0.0.0", "example.org"))


def test_listening_beyond_loopback_needs_the_setting_and_a_token(start_services):
    from rlm_desktop.service.host import HttpServer
    from rlm_desktop.service.openai_app import create_openai_app

    app = create_openai_app(start_services())
    with pytest.raises(ServiceError, match="Allow other devices"):
        HttpServer(app, host="0.0.0.0", policy=AccessPolicy())
    with pytest.raises(ServiceError, match="token"):
        HttpServer(app, host="0.0.0.0", policy=AccessPolicy(allow_remote=True, token=""))


def test_remote_requests_need_the_bearer_token(start_services):
    from rlm_desktop.service.host import HttpServer
    from rlm_desktop.service.openai_app import create_openai_app

    address = own_non_loopback_address()
    token = new_token()
    services = start_services()
    server = HttpServer(create_openai_app(services), host="0.0.0.0", policy=AccessPolicy(True, token),
                        activity=services.activity).start()
    try:
        remote = f"http://{address}:{server.port}/v1/models"
        status, body = get(remote)
        assert status == 401 and body["error"]["code"] == "invalid_token"
        assert get(remote, "rlm-wrong-token")[0] == 401
        status, body = get(remote, token)
        assert status == 200 and "rlm:heron" in [m["id"] for m in body["data"]]
        status, _ = get(f"http://127.0.0.1:{server.port}/v1/models")  # this computer needs no token
        assert status == 200
        assert address in {c.address for c in services.activity.clients()}
    finally:
        server.stop()


def test_remote_requests_are_refused_when_remote_access_is_off(start_services):
    """The second wall: even bound to every interface, a server whose policy is loopback-only answers 403."""
    import uvicorn

    from rlm_desktop.service.openai_app import create_openai_app

    address = own_non_loopback_address()
    app = GuardMiddleware(create_openai_app(start_services()), AccessPolicy(allow_remote=False, token=new_token()))
    server = uvicorn.Server(uvicorn.Config(app, host="0.0.0.0", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            thread.join(0.05)
            assert thread.is_alive()
        port = server.servers[0].sockets[0].getsockname()[1]
        status, body = get(f"http://{address}:{port}/v1/models", "any-token")
        assert status == 403 and body["error"]["code"] == "remote_not_allowed"
        assert address in body["error"]["message"]
        assert get(f"http://127.0.0.1:{port}/v1/models")[0] == 200
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_web_page_rebinding_its_name_to_loopback_is_refused(openai_server):
    server, _ = openai_server()
    url = f"{server.url}/v1/models"

    def status(headers: dict[str, str]) -> int:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert status({}) == 200
    assert status({"Host": f"localhost:{server.port}", "Origin": "http://127.0.0.1:3000"}) == 200
    assert status({"Host": f"evil.example:{server.port}"}) == 403
    assert status({"Origin": "https://evil.example"}) == 403
