"""Downloaded Parquet as a pandas DataFrame or a Hugging Face `datasets.Dataset`.

The download goes to a file first, chunk by chunk, so memory holds the table only once it is
read; a Dataset is memory-mapped from the Arrow cache `datasets` writes, so not even then.
pandas and datasets are imported here, when asked for, never by `import labelwise`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelwise.client._errors import ClientError

if TYPE_CHECKING:
    import datasets
    import pandas


def read_pandas(path: Path) -> pandas.DataFrame:
    _require("pandas", "pandas")
    import pyarrow.parquet as pq

    frame: pandas.DataFrame = pq.read_table(path).to_pandas()
    return frame


def read_dataset(path: Path, cache_dir: str | os.PathLike[str] | None) -> datasets.Dataset:
    datasets_module = _require("datasets", "datasets")
    cache = None if cache_dir is None else os.fspath(cache_dir)
    dataset: datasets.Dataset = datasets_module.Dataset.from_parquet(
        os.fspath(path), cache_dir=cache
    )
    return dataset


def _require(module: str, package: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise ClientError(f"this needs the {package!r} package: pip install {package}") from None
