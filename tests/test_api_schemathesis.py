"""schemathesis against the live service's OpenAPI: valid and invalid requests, every check.

Every response must be documented, match its declared schema, never be a 5xx, and a wrong method
must be a 405 with ``Allow``. The bench run (bench/schemathesis_run.py) does ≥ 3,000 cases.
"""

from __future__ import annotations

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from live_server import live_server
from schemathesis import GenerationMode

from api.app import create_app
from rag.config import Settings

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = int(os.environ.get("RAG_SCHEMATHESIS_EXAMPLES", "50"))  # bench/schemathesis_run.py raises it
CASES: list[str] = []


# The schema is the app's own (no model needed to produce it); the requests go to the live server.
schema = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None)).openapi())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], deterministic=True)


@pytest.fixture(scope="module")
def live_url(settings, answerer):
    with live_server(create_app(settings, answerer=answerer), lifespan="off") as url:
        httpx.post(f"{url}/ask", json={"question": "warm up"}, timeout=120).raise_for_status()  # lazy caches, not the API, on the clock
        yield url


@schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_response_conforms(case, live_url: str) -> None:
    CASES.append(case.operation.label)
    case.call_and_validate(base_url=live_url, timeout=60)  # a loaded 2-core machine, not a hang


def test_enough_cases_ran() -> None:
    if not CASES:
        pytest.skip("the schemathesis test was deselected")
    print(f"schemathesis cases: {len(CASES)}")
    assert len(CASES) >= 300, f"only {len(CASES)} cases"
