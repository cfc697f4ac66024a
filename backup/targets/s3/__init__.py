"""An S3 bucket (AWS or any S3-compatible service), through boto3.

Objects live under ``<prefix>/<profile>/<key>`` in the bucket. Credentials come only from the
AWS credential chain: environment variables, the shared credentials and config files, a named
profile (``aws_profile``), or the instance/container role.

Every upload carries a SHA-256 checksum (``x-amz-checksum-sha256``, per part for multipart
uploads) so the service checks the bytes it stores, and the file's whole hex SHA-256 in user
metadata (``x-amz-meta-sha256``), which listings report as ``hashes={"sha256": ...}``. Files at
or above ``multipart_threshold`` are sent as a multipart upload: the file is read once, parts
are uploaded in parallel, and the upload is only completed once the whole file hashed to the
expected SHA-256. With a ``resume_dir``, an interrupted multipart upload is recorded there and
the next upload of the same file under the same key sends only the parts still missing.

Every upload gets ``storage_class`` when one is set. Object Lock: with ``object_lock_days``,
every stored object is retained (``GOVERNANCE`` by default, or ``COMPLIANCE``) until that many
days after it was stored (for a multipart upload or a copy, after it was completed). Deleting
removes every version of the key, so that space is really freed on a versioned bucket, and
refuses with ``Locked`` (removing nothing) while a version is retained or under legal hold.
Copies are made by the service, keeping metadata, storage class and retention.

Throttling, server errors and dropped connections are retried by botocore with backoff; a
download that breaks off resumes from where it stopped.

The package, by job: ``limits`` (S3's sizes), ``errors`` (boto3's exceptions as the target's),
``client`` (``S3Connection``: the client, credentials, keys, the settings uploads follow, the
session), ``multipart`` (multipart uploads and resuming them), ``objectlock`` (retention and
deleting every version), ``reading`` (downloads that resume, hashes from headers) and
``target`` (``S3Target``, the verbs). The job modules take the connection, never the target.
"""

from backup.targets.s3.limits import COPY_LIMIT, MAX_KEY_BYTES, MAX_OBJECT, MAX_PART, MAX_PARTS, MIN_PART, MiB
from backup.targets.s3.target import S3Target

__all__ = [
    "COPY_LIMIT",
    "MAX_KEY_BYTES",
    "MAX_OBJECT",
    "MAX_PART",
    "MAX_PARTS",
    "MIN_PART",
    "MiB",
    "S3Target",
]
