"""kaiku-tui benchmark: the TUI itself, driven through Textual's Pilot at 80x24.

    python bench/tuibench.py [--records 10000000] [--small 100000] [--trials 40]
                             [--notes 100000 --cases 10000]

For each register size (the small one and the large one, filled or reused by
bench/filldb.py in /tmp/kaiku-bench-N), a child process opens the app as the
current login and measures: cold start to the first rows on screen; a filter
change (a preset chosen in the filter bar) to the new rows; a tag filter
(from the end of the typing pause) to the new rows; PgDn to the rows of the
next screen; End to the last row; the open of a recording (bench/tuiopen.py);
and its resident memory. Beside the filter changes, the same count + first page
through `Register` alone: the limit below the UI. Targets (issue 5): start ≤
1.0 s, filter p95 ≤ 100 ms, PgDn p95 ≤ 50 ms, End ≤ 200 ms, memory ≤ 200 MB
and flat from 100,000 to 10,000,000 records. A benchmark, not a test: it
reports, it does not fail.

The cached register is never changed: each size runs on a fresh copy (removed at
the end), which gets the openable recordings first. With `--notes`/`--cases`
(issue 7) each size is measured twice in the same run, on the same copy: before
and after bench/annotate.py adds the annotations (and real notes on half the
openable rows).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from annotate import add_annotations
from filldb import ensure_filled
from measure import Samples, table
from tuiopen import add_openable, add_real_notes, opens

from kaiku_tui.config import Config, load
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.ingest.demo import TAGS
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.filter_bar import FilterBar
from kaiku_tui.ui.filters import FilterForm, to_filter
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.presets import DatePreset, DurationPreset
from kaiku_tui.ui.recording_list import RecordingList

SIZE = (80, 24)
DATES = [DatePreset.TODAY, DatePreset.YESTERDAY, DatePreset.LAST_7, DatePreset.THIS_MONTH]
DURATIONS = [DurationPreset.UNDER_1, DurationPreset.FROM_1_TO_5, DurationPreset.OVER_15]
OPENABLE = "tuibench-openable.json"  # the openable recordings' ids, in the copy
Change = tuple[str, Any]  # a filter bar field and its new value


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--records", type=int, default=10_000_000)
    p.add_argument("--small", type=int, default=100_000)
    p.add_argument("--trials", type=int, default=40)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--notes", type=int, default=0, help="note versions present (issue 7: 100,000)")
    p.add_argument("--cases", type=int, default=0, help="feedback cases present (10,000)")
    p.add_argument("--child", metavar="DIR", help=argparse.SUPPRESS)
    return p.parse_args(argv)


async def until(check: Callable[[], bool], limit_s: float = 30.0) -> int:
    """Nanoseconds until `check()` holds, polled every 0.2 ms on the app's own loop."""
    start = time.perf_counter_ns()
    while not check():
        if time.perf_counter_ns() - start > limit_s * 1e9:
            raise TimeoutError("the app did not get there")
        await asyncio.sleep(0.0002)
    return time.perf_counter_ns() - start


def rss_mb() -> tuple[float, float]:
    """Resident memory now and at its peak, from /proc (Linux)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def measure(folder: Path, trials: int, seed: int) -> dict[str, Any]:
    config = load(folder / "config.toml")
    identity = current_identity()
    started = time.perf_counter_ns()
    app = KaikuApp(lambda: Register.open(config, identity), Texts("en"))
    out: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen.query(RecordingList).first(None), RecordingList))
        listing = app.screen.query_one(RecordingList)
        await until(lambda: listing.window is not None and bool(listing.window.rows))
        out["start_ms"] = (time.perf_counter_ns() - started) / 1e6
        await until(lambda: not any(w.is_running for w in app.workers), 120)
        out["filter"] = (await filter_changes(app, listing, changes(trials, seed))).ns
        await cleared(app, listing)
        out["tag"] = (await filter_changes(app, listing, tag_changes(trials, seed))).ns
        out["pgdn"] = (await page_downs(pilot, listing, trials)).ns
        out["end"] = (await ends(pilot, app, listing, max(trials // 8, 3))).ns
        await cleared(app, listing)
        out["browse_mb"], _ = rss_mb()
        openable = json.loads((folder / OPENABLE).read_text())
        times = await opens(app, listing, openable, until, pilot.pause)
        out["open"] = times.known.ns
        out["asked"] = times.asked.ns
        out["chosen"] = times.chosen.ns
        out["rss_mb"], out["peak_mb"] = rss_mb()
    out["register"] = (await register_only(config, identity, changes(trials, seed))).ns
    out["register_tag"] = (await register_only(config, identity, tag_changes(trials, seed))).ns
    return out


def changes(trials: int, seed: int) -> list[Change]:
    """Filter changes a person makes: one preset at a time, each to another value."""
    rng = random.Random(seed)
    current: dict[str, DatePreset | DurationPreset] = {
        "dates": DatePreset.ANY,
        "durations": DurationPreset.ANY,
    }
    out: list[Change] = []
    for i in range(trials):
        name = "dates" if i % 2 == 0 else "durations"
        options = [p for p in (DATES if name == "dates" else DURATIONS) if p != current[name]]
        current[name] = rng.choice(options)
        out.append((name, current[name]))
    return out


def tag_changes(trials: int, seed: int) -> list[Change]:
    """A tag typed over all dates, each time another of the vocabulary (`complaint`...)."""
    rng = random.Random(seed)
    out: list[Change] = []
    current = ""
    for _ in range(trials):
        current = rng.choice([t for t in TAGS if t != current])
        out.append(("tag", current))
    return out


async def filter_changes(app: KaikuApp, listing: RecordingList, chosen: list[Change]) -> Samples:
    """Each change made in the bar until the new rows are there."""
    samples = Samples()
    for name, value in chosen:
        old = listing.window
        start = time.perf_counter_ns()
        change_filter(app.screen.query_one(FilterBar), name, value)
        await until(lambda old=old: listing.window is not old and _shown(listing))
        samples.add(time.perf_counter_ns() - start)
    return samples


def change_filter(bar: FilterBar, name: str, value: Any) -> None:
    """A preset as the Select posts its choice; a typed field as the bar posts it when
    the typing pause is over (the pause itself, a constant, is not measured)."""
    from textual.widgets import Input, Select

    if name in ("dates", "durations"):
        bar.query_one(f"#{name}", Select).value = value
        return
    with bar.prevent(Input.Changed):
        bar.query_one(f"#{name}", Input).value = value
    bar.form = bar.form.changed(**{name: value})
    bar.post_message(FilterBar.Changed(bar.form, typed=False))


async def cleared(app: KaikuApp, listing: RecordingList) -> None:
    """No filter, the rows shown and the background counts done."""
    app.screen.query_one(FilterBar).clear()
    await until(lambda: _shown(listing) and not any(w.is_running for w in app.workers), 120)


def _shown(listing: RecordingList) -> bool:
    window = listing.window
    return window is not None and (bool(window.rows) or window.total == 0)


def _visible_loaded(listing: RecordingList) -> bool:
    window = listing.window
    if window is None:
        return False
    top = round(listing.scroll_y)
    last = min(top + listing.size.height, window.total) - 1
    return window.row(top) is not None and window.row(last) is not None


async def page_downs(pilot: Any, listing: RecordingList, trials: int) -> Samples:
    await cleared(pilot.app, listing)
    listing.focus()
    samples = Samples()
    for _ in range(trials):
        before = listing.cursor
        start = time.perf_counter_ns()
        pilot.app.simulate_key("pagedown")  # Pilot.press waits for an idle CPU: ~80 ms
        await until(lambda before=before: listing.cursor != before and _visible_loaded(listing))
        samples.add(time.perf_counter_ns() - start)
    return samples


async def ends(pilot: Any, app: KaikuApp, listing: RecordingList, trials: int) -> Samples:
    samples = Samples()
    for _ in range(trials):
        app.simulate_key("home")
        await until(lambda: _visible_loaded(listing) and listing.cursor == 0)
        start = time.perf_counter_ns()
        app.simulate_key("end")
        await until(
            lambda: (
                listing.window is not None
                and listing.cursor == listing.window.total - 1
                and listing.current is not None
            )
        )
        samples.add(time.perf_counter_ns() - start)
    return samples


async def register_only(config: Any, identity: Any, chosen: list[Change]) -> Samples:
    """The same filter changes without the UI: a capped count and the first page."""
    from datetime import datetime

    from kaiku_tui.domain.dates import HELSINKI

    register = await Register.open(config, identity)
    today = datetime.now(HELSINKI).date()
    samples = Samples()
    form = FilterForm()
    try:
        for name, value in chosen:
            form = form.changed(**{name: value})
            where: RecordingFilter = to_filter(form, today)
            start = time.perf_counter_ns()
            await register.recordings.count(where, cap=10_000)
            await register.recordings.search(where, limit=100)
            samples.add(time.perf_counter_ns() - start)
    finally:
        await register.close()
    return samples


def child(args: argparse.Namespace) -> int:
    result = asyncio.run(measure(Path(args.child), args.trials, args.seed))
    print(json.dumps(result))
    return 0


async def fill(records: int, seed: int) -> Path:
    folder = Path(f"/tmp/kaiku-bench-{records}")
    await ensure_filled(folder, records, seed, 0)
    return folder


async def working_copy(cache: Path, records: int, openable: int, seed: int) -> Config:
    """A fresh copy of the cached register with `openable` real recordings added."""
    folder = Path(f"/tmp/kaiku-tuibench-{records}")
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(cache, folder)
    (folder / "config.toml").write_text(
        (cache / "config.toml").read_text().replace(str(cache), str(folder))
    )
    config = load(folder / "config.toml")
    ids = await add_openable(config, openable, seed)  # opening also migrates an old cache
    (folder / OPENABLE).write_text(json.dumps(ids))
    return config


async def annotate(config: Config, args: argparse.Namespace) -> str:
    """bench/annotate.py's notes, cases and tags, and real notes on half the openable rows."""
    ids = json.loads((config.data_dir / OPENABLE).read_text())
    noted = await add_real_notes(config, ids, args.seed)
    line = add_annotations(config.sqlite_path, args.notes, args.cases, args.seed, min(ids))
    return f"{line} (real notes on {len(noted)} of the opened rows)"


def run_child(folder: Path, trials: int, seed: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(folder), "--trials", str(trials),
         "--seed", str(seed)],
        stdout=subprocess.PIPE,  # its stderr is ours: a failure shows its traceback
        text=True,
        check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def p50_95(ns: list[int]) -> str:
    s = Samples(ns)
    return f"{s.p50:.1f} / {s.p95:.1f}"


def rows(records: int, present: str, load: str, r: dict[str, Any]) -> tuple[list[str], list[str]]:
    """A row of the browse table and one of the open table."""
    browse = [
        f"{records:,}",
        present,
        load,
        f"{r['start_ms']:.0f}",
        p50_95(r["filter"]),
        p50_95(r["register"]),
        p50_95(r["tag"]),
        p50_95(r["register_tag"]),
        p50_95(r["pgdn"]),
        f"{max(r['end']) / 1e6:.0f}",
        f"{r['browse_mb']:.0f}",
    ]
    opened = [f"{records:,}", present, p50_95(r["open"]), p50_95(r["asked"]),
              p50_95(r["chosen"]), str(len(r["open"]) + len(r["chosen"])),
              f"{r['rss_mb']:.0f} (peak {r['peak_mb']:.0f})"]  # fmt: skip
    return browse, opened


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        return child(args)
    browse: list[list[str]] = []
    opened: list[list[str]] = []
    for records in [n for n in (args.small, args.records) if n]:
        cache = asyncio.run(fill(records, args.seed))
        config = asyncio.run(working_copy(cache, records, 2 * args.trials, args.seed))
        try:
            states = ["none"] + (["notes, cases"] if args.notes or args.cases else [])
            for present in states:
                if present != "none":
                    print(asyncio.run(annotate(config, args)), file=sys.stderr)
                load = "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
                print(f"measuring {records:,} records, annotations: {present}", file=sys.stderr)
                result = run_child(config.data_dir, args.trials, args.seed)
                browse_row, open_row = rows(records, present, load, result)
                browse.append(browse_row)
                opened.append(open_row)
        finally:
            shutil.rmtree(config.data_dir)
    print(table(["records", "annotations", "load 1/5/15 min", "start → rows ms",
                 "filter → rows ms p50/p95", "Register alone p50/p95",
                 "tag filter → rows p50/p95", "Register alone (tag) p50/p95",
                 "PgDn ms p50/p95", "End ms (max)", "RSS MB, browsed"], browse))  # fmt: skip
    print()
    print(table(["records", "annotations", "open, purpose known ms p50/p95",
                 "Enter → purpose asked p50/p95", "purpose chosen → shown p50/p95",
                 "opens", "RSS MB after them"], opened))  # fmt: skip
    print("\ntargets: start ≤ 1000 ms, filter p95 ≤ 100 ms, PgDn p95 ≤ 50 ms, End ≤ 200 ms,")
    print("memory ≤ 200 MB and the same at both sizes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
