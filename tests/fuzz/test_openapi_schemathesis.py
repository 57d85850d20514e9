"""schemathesis against /openapi.json: no 500s, and every 4xx is JSON that names the problem."""

from __future__ import annotations

import json

import schemathesis
from hypothesis import HealthCheck, settings

from tests.test_params import app

schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_clear_client_errors(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = json.loads(response.content)
        assert body["detail"], body
        assert "Traceback" not in response.text
