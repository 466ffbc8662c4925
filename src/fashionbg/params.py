"""Reading params.yaml with typed look-ups that fail with the key, the value and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import yaml

from .errors import ConfigError

PARAMS_FILE = Path("params.yaml")
_MISSING = object()


def load_params(path: Path | str = PARAMS_FILE) -> dict:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found; run the command from the repository root")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: invalid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return data


def get(
    params: dict,
    key: str,
    kind: type | tuple[type, ...],
    default: Any = _MISSING,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: Sequence[Any] | None = None,
) -> Any:
    """Return the value at dotted `key` (for example `train.epochs`), checked against `kind` and bounds."""
    value: Any = params
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            if default is not _MISSING:
                return default
            raise ConfigError(f"params.yaml: missing key {key!r}; add it (see the README's params section)")
        value = value[part]

    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ConfigError(f"params.yaml: {key} must be {names}, got {value!r} ({type(value).__name__})")
    if choices is not None and value not in choices:
        from difflib import get_close_matches

        close = get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"params.yaml: {key}: invalid value {value!r}{hint}; use one of {', '.join(map(str, choices))}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"params.yaml: {key} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"params.yaml: {key} must be <= {maximum}, got {value!r}")
    return value
