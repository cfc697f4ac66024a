"""What a use case returns when a lower layer's report says it all: the report, for one profile.
Its ``as_dict()`` is the command's ``--json`` document (the profile's name, then the report's
fields) and ``ok`` says whether the command exits 0 or 1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar


class Report(Protocol):
    @property
    def ok(self) -> bool: ...

    def as_dict(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=Report)


@dataclass
class ForProfile(Generic[R]):
    profile: str
    report: R

    @property
    def ok(self) -> bool:
        return self.report.ok

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, **self.report.as_dict()}
