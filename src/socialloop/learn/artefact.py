"""The bundled model file format: a compressed ``.npz`` of plain arrays plus a JSON header,
written and read without pickle (``allow_pickle=False``). Every linear model shares it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from socialloop.errors import SocialloopError

MissingFactory = Callable[[Path, str], SocialloopError]


def save_arrays(path: Path, header: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]]) -> None:
    """Write ``arrays`` and the JSON ``header`` (which names the ``format``) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    members: dict[str, Any] = {
        "header": np.array(json.dumps(dict(header), sort_keys=True)),
        **arrays,
    }
    with path.open("wb") as fh:
        np.savez_compressed(fh, **members)


def load_arrays(
    path: Path,
    fmt: str,
    names: tuple[str, ...],
    missing: MissingFactory,
    optional: tuple[str, ...] = (),
) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """The header and the named arrays of an artefact of format ``fmt`` (plus those of the
    ``optional`` names it holds); any problem (absent, unreadable, another format) raises
    ``missing(path, why)``."""
    if not path.is_file():
        raise missing(path, "is missing")
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            if header.get("format") != fmt:
                raise missing(path, f"has unknown format {header.get('format')!r}")
            wanted = [*names, *(name for name in optional if name in z.files)]
            return header, {name: np.asarray(z[name]) for name in wanted}
    except (OSError, ValueError, KeyError) as exc:
        raise missing(path, f"could not be read ({exc})") from exc


# The arrays of a linear model over hashed features (sentiment, emotion, intent heads):
# int8 weights with a per-output float scale, squared IDF as float16, float biases.
LINEAR_ARRAYS: tuple[str, ...] = ("weights", "scale", "idf2", "bias")


def linear_arrays(model: Any) -> dict[str, NDArray[Any]]:
    """The arrays of a linear model, by name, for :func:`save_arrays`."""
    return {name: getattr(model, name) for name in LINEAR_ARRAYS}


def typed_linear(arrays: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    """Loaded linear-model arrays with their stored dtypes."""
    return {
        "weights": np.asarray(arrays["weights"], dtype=np.int8),
        "scale": np.asarray(arrays["scale"], dtype=np.float32),
        "idf2": np.asarray(arrays["idf2"], dtype=np.float16),
        "bias": np.asarray(arrays["bias"], dtype=np.float32),
    }
