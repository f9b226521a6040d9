"""What the seeding steps share: options, the one password hash, the county, the printed logins."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from centers.models import Region


@dataclass(frozen=True)
class Login:
    username: str
    role: str  # the role's label, e.g. 窗口工作人员
    where: str  # center or unit name
    full_name: str


@dataclass
class SeedContext:
    towns: int
    # settings.ZONGZHI_DEMO_PASSWORD hashed once; every demo user reuses it (thousands of PBKDF2
    # hashes would take minutes).
    password_hash: str
    out: Callable[[str], None] = print
    county: Region | None = None
    logins: list[Login] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)

    def note(self, what: str, count: int) -> None:
        """Count rows a step created; the command prints the totals."""
        if count:
            self.created[what] += count
