"""The fake HubSpot of the tests as a separate process for the CRM benchmark: prints its URL."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.connectors.vendors import FakeHubSpot, serve

if __name__ == "__main__":
    fake = FakeHubSpot()
    with serve(fake) as url:
        print(url, flush=True)
        while True:
            time.sleep(3600)
