"""The two places a customer's file can live, through the same calls: a directory, and an
S3-compatible bucket served over HTTP on loopback by moto's server (S3 is a service outside
this machine; moto speaks its protocol)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings
from bot.domain import attachment_files, attachments
from bot.domain.privacy.erase import erase_customer
from bot.domain.storage.migrate import upgrade
from tests.conftest import sqlite_url

PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)
PDF = b"%PDF-1.7\n" + bytes(100)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["directory", "bucket"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    base = replace(Settings(), database_url=sqlite_url(tmp_path), attachments_dir=tmp_path / "files")
    upgrade(base.database_url)
    if request.param == "directory":
        return base
    import boto3

    endpoint = request.getfixturevalue("s3_endpoint")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    bucket = f"shop-files-{tmp_path.name.lower().replace('_', '-')}"[:63]
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return replace(base, attachments_url=f"s3://{bucket}/customer-files?endpoint_url={endpoint}&region=us-east-1")


def test_a_file_is_kept_once_read_back_and_gone_after_the_customer_is_erased(settings: Settings) -> None:
    files = attachment_files.for_settings(settings)
    url = settings.database_url
    photo = attachments.store(url, files, "conv-1", "lid.png", PNG)
    again = attachments.store(url, files, "conv-1", "lid again.png", PNG)  # the same bytes: one file
    receipt = attachments.store(url, files, "conv-2", "receipt.pdf", PDF)
    assert attachments.read(files, photo) == PNG and attachments.read(files, receipt) == PDF
    assert sorted(files.digests()) == sorted({hashlib.sha256(PNG).hexdigest(), hashlib.sha256(PDF).hexdigest()})
    assert again.sha256 == photo.sha256

    erase_customer(url, "widget:conv-1")  # the widget's customer is its conversation
    assert attachments.remove_orphans(url, files) == 1
    assert attachments.read(files, photo) is None and attachments.read(files, receipt) == PDF
    assert list(files.digests()) == [receipt.sha256]


def test_an_attachments_url_that_is_not_a_bucket_is_refused_in_words(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        attachment_files.for_settings(replace(Settings(), attachments_url="https://files.example/x"))
