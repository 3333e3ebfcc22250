"""Retrieval against a Chroma server (``chroma run``, from the chromadb package itself): what
several workers on several machines share. Two stores — two clients, as two processes would
have — see the same collections, and a reader's lexical index follows the other's writes; a server
that is not there is one clear error."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from casepilot.errors import RetrievalError
from casepilot.rag import Document, DocumentStore, Retriever

from .conftest import POLICIES

CHROMA = Path(sys.executable).parent / "chroma"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert CHROMA.exists(), f"the chromadb package's server command is missing at {CHROMA}"
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("w")
    server = subprocess.Popen([str(CHROMA), "run", "--path", str(data / "db"), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, (data / "server.log").read_text()
                assert time.monotonic() < deadline, "the Chroma server did not start within 60 s"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def test_two_clients_of_one_server_share_collections(chroma_url: str) -> None:
    with DocumentStore(chroma_url, chunk_size=200, chunk_overlap=20) as writer:
        assert writer.url == chroma_url and writer.path is None
        writer.create_collection("policies")
        writer.ingest("policies", POLICIES)
        written = writer.chunks("policies").ids
    with DocumentStore(chroma_url) as reader:  # another process, another machine: another client
        [info] = [c for c in reader.list_collections() if c.name == "policies"]
        assert info.chunks == len(written) and info.embedding == "casepilot-wordllama:l2_supercat_256"
        hits = Retriever(reader).search("policies", "hail damage to a parked car", 3)
        assert hits and hits[0].document_id == "motor-1"
        reader.ingest("policies", [Document("motor-1", "Motor policy v2. Hail is no longer covered.")])
    with DocumentStore(chroma_url) as again:
        assert [i for i in again.chunks("policies").ids if i.startswith("motor-1::")] == ["motor-1::0"]


def test_a_server_that_is_not_there_is_one_clear_error() -> None:
    with pytest.raises(RetrievalError, match=r"cannot reach the Chroma server at http://127\.0\.0\.1:\d+"):
        DocumentStore(f"http://127.0.0.1:{_free_port()}")


def test_the_rag_commands_take_a_server_url(chroma_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from casepilot.cli import app

    doc = tmp_path / "claims-faq.md"
    doc.write_text("# Claims FAQ\n\nA windscreen claim is paid without an excess.\n", encoding="utf-8")
    runner = CliRunner()
    ingested = runner.invoke(app, ["rag", "ingest", str(doc), "-c", "faq", "--store", chroma_url])
    assert ingested.exit_code == 0, ingested.output
    listed = runner.invoke(app, ["rag", "collections", "--store", chroma_url])
    assert listed.exit_code == 0 and "faq" in listed.output, listed.output
    found = runner.invoke(app, ["rag", "search", "windscreen excess", "-c", "faq", "--store", chroma_url])
    assert found.exit_code == 0 and "claims-faq" in found.output, found.output


def test_a_readers_lexical_index_follows_another_clients_writes(chroma_url: str) -> None:
    """Each process keeps its own BM25 index; a write by another client must reach it."""
    with DocumentStore(chroma_url) as writer, DocumentStore(chroma_url) as reader:
        writer.create_collection("notes")
        writer.ingest("notes", [Document("n1", "The garage in Leeds sent a quote for the bumper.")])
        searcher = Retriever(reader)
        assert [h.document_id for h in searcher.search("notes", "quote bumper", 3, mode="lexical")] == ["n1"]
        assert searcher.search("notes", "hailstorm windscreen", 3, mode="lexical") == []
        writer.ingest("notes", [Document("n2", "A hailstorm cracked the windscreen on Tuesday.")])
        assert [h.document_id for h in searcher.search("notes", "hailstorm windscreen", 3, mode="lexical")] == ["n2"]
        writer.delete("notes", ["n1"])
        assert searcher.search("notes", "quote bumper", 3, mode="lexical") == []
