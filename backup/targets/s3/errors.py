"""boto3's exceptions turned into the target's: a problem with the whole bucket (missing, access
denied, full, wrong region, the service down, no credentials) is a ``TargetError``; a problem
with one object is an ``ObjectError`` (``ObjectMissing`` when it is not there)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from botocore.exceptions import (
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    FlexibleChecksumError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

from backup.targets.base import ObjectError, ObjectMissing, TargetError, TargetFull, Unavailable

MISSING = {"404", "NoSuchKey", "NotFound"}
NO_BUCKET = {"NoSuchBucket"}
DENIED = {
    "403",
    "AccessDenied",
    "AllAccessDisabled",
    "AccountProblem",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "InvalidSecurity",
    "InvalidToken",
    "RequestTimeTooSkewed",
    "SignatureDoesNotMatch",
    "TokenRefreshRequired",
}
FULL = {
    "507",
    "InsufficientStorage",
    "QuotaExceeded",
    "ServiceQuotaExceeded",
    "StorageFull",
    "XMinioAdminBucketQuotaExceeded",
    "XMinioStorageFull",
}
WRONG_REGION = {"301", "PermanentRedirect", "AuthorizationHeaderMalformed"}
CONFIG = {"InvalidStorageClass", "InvalidBucketName", "InvalidRequest"}
NO_CREDENTIALS = (
    "no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add them to the "
    "AWS credentials file with `aws configure`, or name a profile from it with aws_profile in the "
    "target's settings"
)


class Place(NamedTuple):
    """What messages name: the target, its bucket, the endpoint and the AWS profile."""

    name: str
    bucket: str
    endpoint_url: str | None
    aws_profile: str | None

    def no_bucket(self) -> str:
        at = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"the bucket {self.bucket!r} does not exist{at}; create it or fix bucket in the profile"

    def check_access(self) -> str:
        profile = f"the AWS profile {self.aws_profile!r}" if self.aws_profile else "the AWS credentials"
        return f"check {profile} and that they may use the bucket {self.bucket}"


def code(exc: BaseException) -> str:
    """The S3 error code of a ClientError, or of the ClientError behind one of ours."""
    cause = exc if isinstance(exc, ClientError) else exc.__cause__
    if isinstance(cause, ClientError):
        return str(cause.response.get("Error", {}).get("Code", ""))
    return ""


def client_error(place: Place, exc: ClientError, key: str | None) -> Exception:
    """The target's exception for a ClientError about ``key`` (or about the bucket)."""
    name, bucket = place.name, place.bucket
    error_code = code(exc)
    message = exc.response.get("Error", {}).get("Message") or error_code
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    where = f"{key}: " if key else ""
    if error_code in NO_BUCKET:
        return Unavailable(f"{name}: {place.no_bucket()}")
    if error_code in MISSING and key:
        return ObjectMissing(f"{key}: not on {name}")
    if error_code in FULL or status == 507:
        return TargetFull(f"{name}: the bucket {bucket} has no room left ({error_code}: {message})")
    if error_code in DENIED:
        return TargetError(f"{name}: {where}access denied ({error_code}: {message}); {place.check_access()}")
    if error_code in WRONG_REGION:
        region = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
        hint = f"set region = {region!r}" if region else "check region"
        return TargetError(f"{name}: the bucket {bucket} is in another region; {hint} in the profile")
    if error_code in CONFIG:
        return TargetError(f"{name}: {where}{error_code}: {message}")
    if error_code == "EntityTooLarge":
        return ObjectError(f"{where}too large for {name} ({message})")
    if error_code == "InvalidObjectState":
        return ObjectError(f"{where}archived in a cold storage class; restore it first ({message})")
    if error_code in ("PreconditionFailed", "412"):
        return ObjectError(f"{where}changed on {name} while it was being read")
    if status >= 500 or error_code in ("SlowDown", "503", "ServiceUnavailable", "InternalError"):
        return Unavailable(f"{name}: the service keeps failing ({error_code}: {message}); try again later")
    return ObjectError(f"{where}{error_code}: {message}")


@contextmanager
def translated(place: Place, key: str | None = None) -> Iterator[None]:
    """Turns boto3's exceptions raised inside into the target's."""
    try:
        yield
    except ClientError as exc:
        raise client_error(place, exc, key) from exc
    except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError) as exc:
        raise TargetError(f"{place.name}: {NO_CREDENTIALS} ({exc})") from exc
    except (ConnectionError, HTTPClientError) as exc:
        at = place.endpoint_url or "S3"
        raise Unavailable(f"{place.name}: cannot reach {at} ({exc}); check the network") from exc
    except FlexibleChecksumError as exc:
        raise ObjectError(f"{key}: the bytes received do not match the stored checksum ({exc})") from exc
