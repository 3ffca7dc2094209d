"""A bittensor 11 validator calling an axon over TLS, for tests/tls.rs: `POST /v1/echo`
signed by 11.3.0's own `http_auth.sign` (as //Bob for the axon's hotkey), sent with Python's
`ssl` and `http.client`, trusting only the axon's self-signed certificate.

argv: port, the axon's hotkey, the certificate's PEM file, the certificate's name. Prints
`RESULT ` and JSON {"status", "body", "version", "cipher", "peer_certificate_matches"}.
"""

import http.client
import json
import socket
import ssl
import sys

from bittensor import http_auth
from bittensor.sp_core import Keypair

port, hotkey, cafile, name = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

context = ssl.create_default_context(cafile=cafile)
body = json.dumps({"text": "over tls"}).encode()
headers = http_auth.sign(Keypair.create_from_uri("//Bob"), method="POST", path="/v1/echo",
                         body=body, receiver_ss58=hotkey)
# The certificate names the axon (`name`), not 127.0.0.1: connect to the address, check
# the name.
tls = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30),
                          server_hostname=name)
der, version, cipher = tls.getpeercert(binary_form=True), tls.version(), tls.cipher()[0]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
conn.sock = tls
conn.request("POST", "/v1/echo", body=body, headers={"Content-Type": "application/json", **headers})
r = conn.getresponse()
answer = r.read().decode()
with open(cafile) as f:
    ours = ssl.PEM_cert_to_DER_cert(f.read())
print("RESULT " + json.dumps({
    "status": r.status, "body": answer, "version": version, "cipher": cipher,
    "peer_certificate_matches": der == ours,
}), flush=True)
