"""Secrets come from the environment or from files, never from the configuration itself.

A setting ``foo`` that is a secret is given as ``foo_env = "VARIABLE"`` or ``foo_file = "path"``.
A literal ``foo = "..."`` in a file is refused, so a secret never ends up in a repository.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from canonical.errors import ConfigError

_known: set[str] = set()


def known_secrets() -> frozenset[str]:
    """Every secret value read so far; the log filter masks them."""
    return frozenset(_known)


def read_secret(settings: Mapping[str, Any], name: str, *, source: str, prefix: str = "") -> str:
    """Resolve the secret ``name`` from ``name_env`` or ``name_file`` in ``settings``.

    ``prefix`` is the settings table's path in the file (e.g. ``connections.main.shop``), so that
    errors name the exact key.
    """
    where = f"{prefix}.{name}" if prefix else name
    if name in settings:
        raise ConfigError(
            source, where, f"secrets are not written in the file; use {name}_env or {name}_file"
        )
    env_name = settings.get(f"{name}_env")
    file_name = settings.get(f"{name}_file")
    if env_name is not None:
        value = os.environ.get(str(env_name))
        if not value:
            raise ConfigError(source, f"{where}_env", f"environment variable {env_name} is not set")
    elif file_name is not None:
        path = Path(str(file_name)).expanduser()
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                source, f"{where}_file", f"cannot read {path}: {exc.strerror}"
            ) from None
        if not value:
            raise ConfigError(source, f"{where}_file", f"{path} is empty")
    else:
        raise ConfigError(source, where, f"missing: give {name}_env or {name}_file")
    _known.add(value)
    return value
