"""What an asyncio application's event loop sees of the SDK: its first flush and first refresh
load the HTTP stack (httpx, the generated client, the loop's connection pool and CA bundle:
about 0.1 s) on a worker thread, so the loop goes on serving instead of stalling."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.lifecycle._harness import assert_clean, config_for, run_child
from tests.lifecycle._servers import LocalServer

#: Records the thread that imports httpx and the one that makes an SSL context (a connection
#: pool's CA bundle), then runs the application.
BODY = """
import asyncio, ssl, sys, threading

class Spy:
    def find_spec(self, name, path=None, target=None):
        if name == "httpx":
            lc.mark("httpx", thread=threading.current_thread().name)
        return None

sys.meta_path.insert(0, Spy())
contexts = []
real_context = ssl.create_default_context
def spied_context(*args, **kwargs):
    contexts.append(threading.current_thread().name)
    return real_context(*args, **kwargs)
ssl.create_default_context = spied_context

async def main():
    from mosaicstack_telemetry import Complexity, PredictionQuery, Provider, TaskType

    client = lc.make_client()
    if lc.PARAMS["first"] == "flush":
        await client.start_async()
        lc.track(client, 3)
        await client.stop_async()
    else:
        query = PredictionQuery(task_type=TaskType.TESTING, model="m", provider=Provider.OPENAI,
                                complexity=Complexity.LOW)
        await client.refresh_predictions([query])
        lc.mark("answered", known=client.get_prediction(query) is not None)
        await client.aclose()
    lc.mark("pools", threads=contexts)

asyncio.run(main())
"""


@pytest.mark.parametrize("first", ["flush", "refresh"])
def test_the_first_request_loads_the_http_stack_off_the_loop(
    server: LocalServer, tmp_path: Path, first: str
) -> None:
    child = run_child(tmp_path, BODY, config_for(server), params={"first": first})
    assert child.returncode == 0, child.describe()
    assert_clean(child, server.key)
    assert child.mark("httpx")["thread"] != "MainThread", child.describe()
    pools = child.mark("pools")["threads"]
    assert pools, child.describe()
    assert "MainThread" not in pools, child.describe()
    if first == "flush":
        (final,) = child.finals().values()
        assert sorted(server.stored_ids()) == sorted(final["tracked"]), child.describe()
    else:
        assert child.mark("answered")["known"] is True
