"""A real RFC 3161 Time Stamping Authority on 127.0.0.1, made with `openssl ts`."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI, Request, Response

from sandbox.server import ThreadedServer

TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
signer_cert = $dir/tsa.crt
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@dataclass
class Tsa:
    url: str
    ca_file: Path
    down: bool = False
    requests: int = 0


@pytest.fixture
def tsa() -> Iterator[Tsa]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    work = Path(tempfile.mkdtemp(prefix="civicwatch-tsa-"))
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
             "-subj", "/CN=civicwatch test TSA CA", "-addext", "basicConstraints=critical,CA:true",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=work)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
             "-subj", "/CN=civicwatch test TSA", cwd=work)
    (work / "ext.cnf").write_text("extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n")
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "tsa.crt", "-days", "30", "-extfile", "ext.cnf", cwd=work)
    (work / "serial").write_text("01\n")
    (work / "tsa.cnf").write_text(TSA_CONFIG.format(dir=work))
    app = FastAPI()
    server = ThreadedServer(app)
    state = Tsa(url=f"{server.base_url}/tsa", ca_file=work / "ca.pem")

    @app.post("/tsa")
    async def stamp(request: Request) -> Response:
        if state.down:
            return Response("maintenance", status_code=503)
        state.requests += 1
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            query, reply = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
            query.write_bytes(await request.body())
            _openssl("ts", "-reply", "-config", str(work / "tsa.cnf"), "-queryfile", str(query),
                     "-out", str(reply), cwd=work)
            return Response(reply.read_bytes(), media_type="application/timestamp-reply")

    server.start()
    yield state
    server.stop()
    shutil.rmtree(work, ignore_errors=True)
