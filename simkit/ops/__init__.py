"""Operations: export, purge and retention over every store (:mod:`simkit.ops.privacy`),
backups and recovery (:mod:`simkit.ops.backup`), and where each store is
(:mod:`simkit.ops.stores`)."""

from __future__ import annotations

from simkit.ops.backup import backup, restore, verify_backup
from simkit.ops.privacy import export, gc, purge, subject
from simkit.ops.stores import Stores

__all__ = ["Stores", "backup", "export", "gc", "purge", "restore", "subject", "verify_backup"]
