"""Schemathesis against the agent console's own OpenAPI description (/api/openapi.json, read
while logged in), as a supervisor so that every route is reachable: for each operation, requests
that fit the schema and requests that do not (wrong types, missing fields, odd strings), with the
session cookie and the CSRF token. No answer may be a 5xx; refusals are 4xx with a JSON `detail`;
the console and Rasa stay up and within a bounded amount of memory."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error

from tests.conftest import ConsoleClient, RunningBot
from tests.fuzz.conftest import FUZZ, assert_alive, assert_json_error, bounded_memory

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = 25
# Logging out would end the fuzzer's own session; the live stream never ends by design.
SKIPPED = ["/api/logout", "/api/stream"]


def test_every_console_operation_answers_generated_requests_without_a_5xx(fuzz_bot: RunningBot,
                                                                           supervisor: ConsoleClient) -> None:
    schema = schemathesis.openapi.from_url(f"{supervisor.base}/api/openapi.json",
                                           cookies=supervisor.http.cookies.get_dict(), timeout=30)
    operations = [result.ok() for result in schema.exclude(path=SKIPPED).get_all_operations()]
    assert len(operations) >= 12, [op.label for op in operations]
    headers = {"X-CSRF-Token": supervisor.csrf}

    def fuzz(operation: schemathesis.APIOperation, mode: GenerationMode) -> None:
        @settings(FUZZ, max_examples=EXAMPLES_PER_OPERATION)
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case: Case) -> None:
            reply = case.call(base_url=supervisor.base, session=supervisor.http, headers=headers, timeout=60)
            case.validate_response(reply, checks=[not_a_server_error])
            assert_json_error(reply, "detail")

        print(f"fuzzing {operation.label} ({mode.value})")  # shown with a failure
        try:
            call()
        except Unsatisfiable:  # nothing to make invalid: the operation takes no parameters or body
            assert mode == GenerationMode.NEGATIVE, operation.label

    with bounded_memory(fuzz_bot):
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                fuzz(operation, mode)
    assert supervisor.get("/api/me").status_code == 200  # still logged in: nothing broke the session
    assert_alive(fuzz_bot)
