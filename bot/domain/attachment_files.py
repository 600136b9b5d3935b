"""Where the bytes of customers' files live: a directory (the default: BOT_ATTACHMENTS_DIR,
outside any web root) or an S3-compatible bucket (BOT_ATTACHMENTS_URL, e.g.
`s3://shop-files/attachments?endpoint_url=https://minio.internal:9000&region=eu-west-1`;
the keys come from the usual AWS variables, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, never
from the URL). Each file is named by its sha256, written whole or not at all; the rows that say
whose file it is are in bot/domain/attachments.py. The S3 client is boto3, which Rasa already
installs; with replicas on several machines a bucket is the store they all share.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from bot.config import Settings

DIGEST = re.compile(r"[0-9a-f]{64}")


class FileStore(Protocol):
    def put(self, digest: str, data: bytes) -> None: ...
    def read(self, digest: str) -> bytes | None: ...
    def digests(self) -> Iterator[str]: ...
    def delete(self, digest: str) -> None: ...


class DirectoryStore:
    """Files in a directory of this machine."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def put(self, digest: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / digest
        if target.exists():  # the same file sent twice is kept once
            return
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)

    def read(self, digest: str) -> bytes | None:
        path = self.directory / digest
        return path.read_bytes() if path.is_file() else None

    def digests(self) -> Iterator[str]:
        if self.directory.is_dir():
            yield from (p.name for p in self.directory.iterdir() if DIGEST.fullmatch(p.name))

    def delete(self, digest: str) -> None:
        (self.directory / digest).unlink(missing_ok=True)


class BucketStore:
    """Files in an S3-compatible bucket, under a prefix."""

    def __init__(self, url: str) -> None:
        import boto3  # only a shop that keeps files in a bucket loads it

        parts = urlsplit(url)
        options = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.bucket, self.prefix = parts.netloc, parts.path.strip("/")
        self.client = boto3.client("s3", endpoint_url=options.get("endpoint_url"),
                                   region_name=options.get("region", "us-east-1"))

    def put(self, digest: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(digest), Body=data)  # S3 writes are whole

    def read(self, digest: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(digest))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def digests(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(""))
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"].rsplit("/", 1)[-1]
                if DIGEST.fullmatch(name):
                    yield name

    def delete(self, digest: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(digest))

    def _key(self, digest: str) -> str:
        return f"{self.prefix}/{digest}" if self.prefix else digest


def for_settings(settings: Settings) -> FileStore:
    """The bucket of BOT_ATTACHMENTS_URL when set, else the directory BOT_ATTACHMENTS_DIR."""
    url = settings.attachments_url
    if not url:
        return DirectoryStore(settings.attachments_dir)
    if not url.startswith("s3://") or not urlsplit(url).netloc:
        raise ValueError("BOT_ATTACHMENTS_URL must look like s3://bucket/prefix?endpoint_url=...&region=...")
    return BucketStore(url)
