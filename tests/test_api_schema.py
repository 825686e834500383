"""Schemathesis against the API's own OpenAPI document: generated requests, valid and not, with a real token.

Every answer must be in the document (status, content type, schema), invalid requests must be refused, and
nothing may be a server error. (Schemathesis's pytest plugin predates this pytest: its strategies are driven here.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from .test_api import new_token

ROUNDS = 30


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_the_api_keeps_to_its_openapi_document(app, catalogue, runner, mode):
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {new_token(runner)}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {"POST /imports", "GET /imports", "GET /imports/{batch_id}"}
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=ROUNDS, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case):
            # A schema-valid body may still hold rows that break the questionnaire's rules: that is a 422 by
            # contract, so "valid data must be accepted" does not apply; every other check does.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()
