"""labelwise: self-hosted data labeling with the whole quality workflow.

`from labelwise import Client` gives the Python SDK (labelwise.client); it is imported on
first use, so `import labelwise` (every CLI command, every server process) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Client", "ClientError", "__version__"]

if TYPE_CHECKING:
    from labelwise.client import Client, ClientError


def __getattr__(name: str) -> Any:
    if name in ("Client", "ClientError"):
        from labelwise import client

        return getattr(client, name)
    raise AttributeError(f"module 'labelwise' has no attribute {name!r}")
