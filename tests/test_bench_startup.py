"""tools/bench_startup.py's summary: medians per engine, the optional rows only where measured."""

from __future__ import annotations

from tools import bench_startup


def _run(cold, created, warm, steady, **extra):
    return {
        "cold": {"first_ms": cold, "created_ms": created, "server_bytes": 100, "server_files": 3, **extra},
        "warm": {"first_ms": warm, "created_ms": warm - 50, "server_bytes": 0, "server_files": 0},
        "steady_ms": steady,
        "heap_after": None,
    }


def test_summary_medians_and_optional_rows():
    runs = [
        {**_run(4000, 3000, 1800, 400, next_ms=[500, 410]), "dropped_read_ms": 480},
        {**_run(4400, 3500, 1900, 380, next_ms=[450, 400]), "dropped_read_ms": 520},
        {**_run(4200, 3400, 1700, 390, next_ms=[470, 390]), "dropped_read_ms": 500},
    ]
    s = bench_startup.summary({"localocr": runs, "tesseract.js": [_run(1200, 600, 900, 360)] * 3})
    lo = s["localocr"]
    assert lo["cold_ms"] == 4200 and lo["warm_ms"] == 1800 and lo["steady_ms"] == 390
    assert lo["cold_first_read_ms"] == 900  # median of 1000, 900, 800
    assert lo["cold_next_ms"] == [470, 400] and lo["dropped_read_ms"] == 500
    assert s["tesseract.js"]["cold_next_ms"] == [] and s["tesseract.js"]["dropped_read_ms"] is None
    table = bench_startup.summary_table(s, 3, 3)
    assert "0.50 s" in table and "n/a" in table  # tesseract.js has no dropped read here
    assert "localocr, cold page: the reads after its first one (medians, in order): 0.47, 0.40 s" in table
    assert "tesseract.js, cold page" not in table
