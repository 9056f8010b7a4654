import http.client
import ssl
from urllib.parse import urlsplit

from microsoft_emulator.server import KEEP_ALIVE_CONNECTIONS


def test_it_keeps_many_idle_connections_open_as_microsoft_does(emulator):
    # More idle keep-alive connections than cheroot keeps by default (10): a busy
    # worker pool must not pay a new TLS handshake per request.
    count = 24
    assert count <= KEEP_ALIVE_CONNECTIONS
    context = ssl.create_default_context(cafile=str(emulator.ca_path))
    address = urlsplit(emulator.base_url)
    connections = [
        http.client.HTTPSConnection(address.hostname, address.port, context=context, timeout=5)
        for _ in range(count)
    ]
    try:
        for _ in range(2):  # the second round reuses each connection: none was closed
            for connection in connections:
                connection.request("GET", "/_emulator/state")
                response = connection.getresponse()
                response.read()
                assert response.status == 200
                assert response.getheader("Connection", "").lower() != "close"
    finally:
        for connection in connections:
            connection.close()
