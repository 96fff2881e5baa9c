"""Hostile spreadsheets are refused with a 413 naming the limit, within bounded time and
memory, and the service keeps answering other requests meanwhile (measured: p99 of reads
made during the uploads)."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from shared.testing import sheets

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]

XLSX = {"content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
LABELS = ["姓名", "身份证号码", "职称"]
READ_P99_LIMIT_SECONDS = 0.2
SMALL_SHEET = sheets.rows_of(LABELS, [["张三", "bad", "教授"]])


async def _reads_while(
    client: httpx.AsyncClient, headers: dict[str, str], done: asyncio.Event
) -> list[float]:
    latencies: list[float] = []
    while not done.is_set():
        started = time.perf_counter()
        response = await client.get("/organisations", params={"size": 5}, headers=headers)
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
        await asyncio.sleep(0.01)
    return latencies


def _p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 2 else latencies[0]


async def _baseline_p99(client: httpx.AsyncClient, headers: dict[str, str]) -> float:
    """Reads alone, after a first upload has started the parser processes."""
    warm = await client.post("/people/import", content=SMALL_SHEET, headers=headers | XLSX)
    assert warm.status_code == 422, warm.text  # its one row is refused: nothing imported
    done = asyncio.Event()
    reads = asyncio.create_task(_reads_while(client, headers, done))
    await asyncio.sleep(1.0)
    done.set()
    return _p99(await reads)


def _read_limit(baseline: float) -> float:
    """The bar is 200 ms; on a machine already so loaded that reads alone take longer than
    100 ms at p99, the figure is compared with twice that instead (printed either way)."""
    return max(READ_P99_LIMIT_SECONDS, 2 * baseline)


async def _upload_from_another_process(
    url: str, content: bytes, headers: dict[str, str], tmp_path: Path
) -> tuple[int, dict[str, Any], float]:
    """The upload comes from a process of its own, as a browser's would: the reads measured
    here share the event loop with the service, not with the uploading client."""
    path = tmp_path / "upload.xlsx"
    path.write_bytes(content)
    script = (
        "import json, sys, time, httpx\n"
        "content = open(sys.argv[2], 'rb').read()\n"
        "started = time.perf_counter()\n"
        "r = httpx.post(sys.argv[1], content=content, headers=json.loads(sys.argv[3]), timeout=60)\n"
        "print(json.dumps([r.status_code, r.json(), time.perf_counter() - started]))\n"
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, url, str(path), json.dumps(headers), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await child.communicate()
    status, body, took = json.loads(out)
    return int(status), dict(body), float(took)


async def test_spreadsheet_bombs_are_refused_naming_the_limit_while_reads_stay_fast(
    start_service: Any, auth: Any, tmp_path: Path
) -> None:
    bombs = {
        "2M blank rows (10 MB)": (await asyncio.to_thread(sheets.blank_rows, LABELS), "uncompressed_bytes"),
        "200k blank rows": (await asyncio.to_thread(sheets.blank_rows, LABELS, 200_000), "blank_rows"),
        "one 400 MB cell": (await asyncio.to_thread(sheets.huge_cell, LABELS), "uncompressed_bytes"),
        "a 40,000-character cell": (sheets.long_cell(LABELS), "cell_chars"),
        "a value in column XFD": (sheets.wide_row(LABELS), "columns"),
    }
    assert len(bombs["2M blank rows (10 MB)"][0]) > 9_000_000
    staff = auth("department_staff")
    process = psutil.Process()
    async with start_service("registry", http=True) as registry:
        client = registry.client
        baseline = await _baseline_p99(client, staff)
        figures = [f"reads alone: p99 {baseline * 1000:.0f} ms"]
        for label, (content, limit) in bombs.items():
            done = asyncio.Event()
            reads = asyncio.create_task(_reads_while(client, staff, done))
            await asyncio.sleep(0.05)
            rss_before = process.memory_info().rss
            status, problem, took = await _upload_from_another_process(
                f"{registry.base_url}/people/import", content, staff | XLSX, tmp_path
            )
            rss_growth = process.memory_info().rss - rss_before
            await asyncio.sleep(0.05)
            done.set()
            latencies = await reads
            assert status == 413, (label, problem)
            assert problem["limit"] == limit, (label, problem)
            assert problem["errors"][0]["field"] == "file" and problem["errors"][0]["message_zh"]
            assert took < 10, (label, took)
            assert rss_growth < 150 * 1024 * 1024, (label, rss_growth)
            assert _p99(latencies) < _read_limit(baseline), (label, _p99(latencies), baseline)
            figures.append(
                f"{label}: {status} {limit} in {took * 1000:.0f} ms, "
                f"reads p99 {_p99(latencies) * 1000:.0f} ms over {len(latencies)}, "
                f"memory +{rss_growth / 2**20:.0f} MiB"
            )
        print("\n" + "\n".join(figures))
