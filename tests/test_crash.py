"""A SIGKILL in the middle of a rush of citizens (gunicorn, its workers, mid-transaction): after a restart every
acknowledged answer is there, whole, and nothing was stored twice. `make loadtest` runs the same for 60 s with 200
clients; this is the short version, on SQLite and PostgreSQL in every test run."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import loadtest  # noqa: E402

CLIENTS, SECONDS = 16, 8


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # aiohttp's connections to the killed server
def test_a_sigkill_mid_load_loses_no_acknowledged_answer(database_url, redis_url, tmp_path):
    own_redis = redis_url.rsplit("/", 1)[0] + "/14"  # flushed by prepare(): not the other tests' database
    config = loadtest.prepare(database_url, tmp_path / "instance", own_redis)
    tally, _elapsed, counts, before = loadtest.crash_run(database_url, config, tmp_path / "gunicorn.log", SECONDS,
                                                        clients=CLIENTS)
    assert tally.killed_at is not None
    acknowledged_after = sum(1 for moment in tally.acknowledged_at if moment > tally.killed_at)
    assert len(tally.acknowledged) - acknowledged_after >= CLIENTS and acknowledged_after >= CLIENTS, \
        "the load did not run on both sides of the kill"
    assert tally.errors > 0  # the kill cut requests in flight
    assert counts["missing"] == 0, "an acknowledged answer was lost"
    assert counts["partial"] == 0, "an answer was stored without all its items"
    assert counts["integrity"] == "ok"
    new = counts["stored"] - before
    # Stored but never acknowledged: at most the requests in flight when the server died, one per client.
    assert len(tally.acknowledged) <= new <= len(tally.acknowledged) + CLIENTS
