"""What runs inside each benchmarked process.

bench/run.py starts this module in a fresh interpreter on a pseudo-terminal,
so Textual runs its real Linux driver and really turns every frame into
escape sequences (a headless run skips that step), and reads back a JSON file
of instants and counters:

    python -m bench.child bare --out FILE
    python -m bench.child dashboard --db PATH --records N --out FILE
    python -m bench.child dashboard --db PATH --records N --out FILE --session --now T \
        [--ticks K --warmup K --views top,soon --keys K]

`bare` is the floor: a Textual app showing one Static. `dashboard` is the
real app, built by `tui.factory.build_app` on a prefilled database, with an
in-memory keyring (made on first use, as the system keyring would be) and no
user config. Instants are `time.perf_counter()`
(CLOCK_MONOTONIC, the same clock in every process on Linux); the parent
subtracts the instant it started the process, so interpreter start-up and
imports count.

Nothing in the app is subclassed or patched. The harness watches it through
Textual's message hook (the mechanism behind `App.run_test(message_hook=...)`)
and wraps the driver's `write`, which receives each finished frame: that is
where bytes are counted and where "this frame shows X" is decided.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Only the standard library above this line: start-up is timed from before
# this module is imported, and the bare app must not pay for the dashboard.

PAGE = os.sysconf("SC_PAGE_SIZE")
FILTER_TYPING = list("prod eu")  # then as many backspaces, back to the whole table
# Packages the dashboard needs only for some actions; reported when a plain launch imported them.
OPTIONAL_PACKAGES = ("grpc", "momento", "jwt", "cryptography", "keyring")


def rss() -> int:
    """Resident set size in bytes, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def peak_rss() -> int:
    """Peak resident set size in bytes (VmHWM). Not ru_maxrss: after fork and exec
    that one still holds the parent's peak (here, the benchmark runner's)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


class Harness:
    """Observe a running Textual app: what it paints, when, and how many bytes."""

    def __init__(self, app, result: dict) -> None:
        self.app = app
        self.result = result
        self.bytes_out = 0
        self._triggers: dict[type, Callable[[object], None]] = {}
        self._frame_waiters: list[tuple[Callable[[], bool], asyncio.Future]] = []
        self._tasks: list[asyncio.Task] = []
        self._wrapped = False

    # ---- hooks -----------------------------------------------------------------
    def on(self, message_type: type, callback: Callable[[object], None]) -> None:
        """Call `callback(message)` once, when a message of this type is dispatched."""
        self._triggers[message_type] = callback

    def hook(self, message) -> None:
        """Textual's message hook: called for every message any pump dispatches."""
        if not self._wrapped and self.app._driver is not None:
            self._wrap_driver(self.app._driver)
        callback = self._triggers.pop(type(message), None)
        if callback is not None:
            callback(message)

    def _wrap_driver(self, driver) -> None:
        write = driver.write

        def counting_write(data: str) -> None:
            self.bytes_out += len(data.encode("utf-8", "replace"))
            if self._frame_waiters:
                self._check_frame()
            write(data)

        driver.write = counting_write
        self._wrapped = True

    def _check_frame(self) -> None:
        now = time.perf_counter()
        for waiter in list(self._frame_waiters):
            shows, future = waiter
            try:
                ok = shows()
            except Exception:  # e.g. no screen yet
                ok = False
            if ok:
                self._frame_waiters.remove(waiter)
                if not future.done():
                    future.set_result(now)

    def frame_where(self, shows: Callable[[], bool]) -> asyncio.Future:
        """A future set to the instant of the first frame written while `shows()` holds."""
        future = asyncio.get_running_loop().create_future()
        self._frame_waiters.append((shows, future))
        return future

    def repaints(self, *widgets) -> bool:
        """Is the frame being written repainting one of `widgets` (or the whole screen)?"""
        screen = self.app.screen
        dirty = screen._dirty_widgets
        return screen in dirty or any(w in dirty for w in widgets)

    def spawn(self, coro) -> None:
        """Run a probe coroutine on the app's loop; an error ends the app."""

        async def guarded() -> None:
            try:
                await asyncio.wait_for(coro, 600)
            except BaseException as exc:
                self.result["error"] = f"{type(exc).__name__}: {exc}"
                self.app.exit(return_code=3)
                raise

        self._tasks.append(asyncio.get_running_loop().create_task(guarded()))

    # ---- waiting ---------------------------------------------------------------
    async def after_refresh(self) -> None:
        future = asyncio.get_running_loop().create_future()
        self.app.call_after_refresh(lambda: future.done() or future.set_result(None))
        await future

    def settled(self) -> bool:
        """Nothing left to paint: no dirty widget, no pending layout or repaint.

        Reads Textual internals (the project pins textual<9): a widget's
        refresh reaches the screen only on that widget's next idle, so a bare
        `call_after_refresh` can run before the frame that shows a change.
        """
        screen = self.app.screen
        if (screen._dirty_widgets or screen._layout_required or screen._repaint_required
                or screen._scroll_required or not screen._message_queue.empty()):
            return False
        return not any(w._repaint_required or w._layout_required for w in screen.walk_children())

    async def until(self, condition: Callable[[], bool], timeout: float = 60.0) -> None:
        """Wait until `condition()` holds and everything has been painted."""
        deadline = time.perf_counter() + timeout
        while True:
            await self.after_refresh()
            if condition() and self.settled():
                return
            if time.perf_counter() > deadline:
                raise TimeoutError("the app did not reach the expected state")
            await asyncio.sleep(0)

    async def quiet(self) -> None:
        """Wait for every worker to finish and everything to be painted."""
        from textual.worker import WorkerCancelled

        for _ in range(5):
            try:
                await self.app.workers.wait_for_complete()
            except WorkerCancelled:
                # An exclusive worker replaced by a newer one of its group while we waited
                # (the app's 30 s reminder count can start during a long session): wait
                # for the newer one.
                pass
            await self.until(lambda: True)
            if not any(w.is_running for w in self.app.workers):
                return

    # ---- screen contents -------------------------------------------------------
    def cells(self) -> list[list[tuple[str, object]]]:
        """The screen as (character, style) cells, rendered by the compositor."""
        screen = self.app.screen
        return [[(ch, seg.style) for seg in strip for ch in seg.text]
                for strip in screen._compositor.render_strips(screen.size)]


def changed_cells(before, after) -> int:
    return sum(sum(1 for x, y in zip(a, b) if x != y) + abs(len(a) - len(b)) for a, b in zip(before, after))


def minimal_update_bytes(before, after) -> int:
    """Bytes of the smallest plain update that shows `after` over `before`: for
    each run of changed cells on a line, a cursor move, then the run's text
    with its colours and attributes as Rich writes them (24-bit colour), style
    by style. The reference for "proportional to what changed on screen": a
    terminal needs at least a move and the colours for every separate change."""
    from rich.color import ColorSystem

    total = 0
    for y, (old, new) in enumerate(zip(before, after)):
        x = 0
        while x < len(new):
            if x < len(old) and old[x] == new[x]:
                x += 1
                continue
            start = x
            while x < len(new) and not (x < len(old) and old[x] == new[x]):
                x += 1
            total += len(f"\x1b[{y + 1};{start + 1}H")
            run = new[start:x]
            i = 0
            while i < len(run):  # one styled piece per style in the run
                style = run[i][1]
                j = i
                while j < len(run) and run[j][1] == style:
                    j += 1
                text = "".join(ch for ch, _ in run[i:j])
                total += len(style.render(text, color_system=ColorSystem.TRUECOLOR).encode()) if style else len(text)
                i = j
    return total


def key(name: str):
    """A key press, as the driver posts it to the app."""
    from textual import events

    char = {"space": " ", "slash": "/", "backspace": None, "escape": None}.get(name, name)
    return events.Key(name, char)


# ---- the floor ---------------------------------------------------------------------

def run_bare(args, result: dict) -> None:
    from textual import events
    from textual._context import message_hook
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Bare(App):
        def compose(self) -> ComposeResult:
            yield Static("momento-keys benchmark: a bare Textual app, the floor", id="hello")

    app = Bare()
    h = Harness(app, result)

    def shown() -> bool:
        return app.query_one("#hello") in app.screen._compositor.visible_widgets

    async def probe(painted: asyncio.Future) -> None:
        result["painted_at"] = await painted
        await h.quiet()
        result["settled_at"] = time.perf_counter()
        result["rss"] = rss()
        result["bytes_to_paint"] = h.bytes_out
        app.exit()

    # The first message the app dispatches: wait for the first frame that shows the Static.
    h.on(events.Load, lambda _: h.spawn(probe(h.frame_where(shown))))
    message_hook.set(h.hook)
    app.run()


# ---- the dashboard ----------------------------------------------------------------

def run_dashboard(args, result: dict) -> None:
    from textual import events
    from textual._context import message_hook

    from tui.app import RecordsLoaded
    from tui.core.clock import ManualClock, SystemClock
    from tui.factory import build_app
    from tui.services.config import Settings
    from tui.services.keeper import Keeper
    from tui.services.store import Store
    from tui.services.vault import Vault

    def memory_keyring():  # made on first use, as the system keyring would be: nothing of keyring loads before
        from tui.services.memory_keyring import MemoryKeyring

        return MemoryKeyring()

    clock = ManualClock(args.now) if args.session else SystemClock()
    keeper = Keeper(Store(args.db), Vault(backend_factory=memory_keyring), Settings(), clock)
    # In a session the harness moves the clock and calls tick() itself.
    app = build_app(keeper, tick=False, watch_interval=0) if args.session else build_app(keeper)
    h = Harness(app, result)
    count = args.records

    def shows_records() -> bool:
        """The frame being written shows the loaded records (or, for none, the empty state)."""
        if count == 0:
            empty = app.dashboard.query_one("#empty")
            return empty.display and (app.screen._layout_required or h.repaints(empty))
        table = app.table
        return len(table.rows) == count and h.repaints(table)

    async def launch(listed: asyncio.Future) -> None:
        result["listed_at"] = await listed
        result["rss_listed"] = rss()
        result["bytes_to_paint"] = h.bytes_out
        await h.until(lambda: True)
        result["settled_at"] = time.perf_counter()
        if count:
            table = app.table
            moved = h.frame_where(lambda: table.cursor == 1 and h.repaints(table))
            app.post_message(key("j"))
            result["answered_at"] = await moved
        await h.quiet()
        result["rss"] = rss()
        result["peak_rss"] = peak_rss()
        result["optional_imports"] = sorted(m for m in OPTIONAL_PACKAGES if m in sys.modules)
        app.exit()

    async def session(listed: asyncio.Future) -> None:
        await listed
        await h.quiet()
        result.update(await measure_repaint(h))
        result["ticks"] = await measure_ticks(h, clock, args.ticks, args.warmup, args.views.split(","))
        result["keystrokes"] = await measure_filter(h, args.keys)
        app.exit()

    def loaded(_) -> None:  # dispatched just before the app's own handler runs
        result["loaded_at"] = time.perf_counter()
        listed = h.frame_where(shows_records)
        h.spawn(session(listed) if args.session else launch(listed))

    h.on(events.Ready, lambda _: result.__setitem__("ready_at", time.perf_counter()))
    h.on(RecordsLoaded, loaded)
    message_hook.set(h.hook)
    app.run()


async def measure_repaint(h: Harness) -> dict:
    """Bytes of a full repaint (the reference for a tick's output), and the
    main-thread cost of the harness's own wait (the floor under each sample)."""
    b0 = h.bytes_out
    h.app.screen.refresh()
    await h.until(lambda: True)
    full = h.bytes_out - b0
    floor = []
    for _ in range(10):
        c0 = time.thread_time()
        await h.until(lambda: True)
        floor.append(time.thread_time() - c0)
    size = h.app.screen.size
    return {"full_repaint_bytes": full, "screen_cells": size.width * size.height, "harness_floor": floor}


async def measure_ticks(h: Harness, clock, samples: int, warmup: int, views: list[str]) -> list[dict]:
    """One-second countdown ticks, driven by hand: move the clock on a
    second, call app.tick() as its 1 s timer would, wait for the frame.

    main_paint: main-thread CPU from the call until the tick's frame is written.
    main: the same, until the work the tick started (the band recount worker
          and the summary repaint it posts back) is done and painted too.
    process: CPU of every thread over that window (workers included).
    bytes_paint, bytes: bytes written to the terminal over those two windows.
    changed_cells: screen cells whose character or style differ afterwards.

    Views: "top" is the table as it opens (the top of the expiry sort: keys
    that expired long ago, whose "3mo ago" rarely changes); "soon" scrolls to
    the keys that expire within a day (their countdowns change every second).
    """
    out = []
    for view in views:
        if view == "soon":
            table = h.app.table
            now = clock.now()
            soon = next((i for i, r in enumerate(table.rows)
                         if r.expires_at is not None and 0 < r.expires_at - now < 86400), None)
            if soon is None:
                continue
            table.cursor = min(soon + table.size.height - 1, len(table.rows) - 1)
            await h.quiet()
        out += await _ticks(h, clock, samples, warmup, view)
    return out


async def _ticks(h: Harness, clock, samples: int, warmup: int, view: str) -> list[dict]:
    app = h.app
    before = h.cells()
    out = []
    for i in range(warmup + samples):
        clock.advance(1)
        b0, c0, p0, w0 = h.bytes_out, time.thread_time(), time.process_time(), time.perf_counter()
        app.tick()
        await h.until(lambda: True)
        b1, c1, w1 = h.bytes_out, time.thread_time(), time.perf_counter()
        await h.quiet()
        b2, c2, p2 = h.bytes_out, time.thread_time(), time.process_time()
        after = h.cells()
        if i >= warmup:
            out.append({"view": view, "main_paint": c1 - c0, "main": c2 - c0, "process": p2 - p0,
                        "wall_paint": w1 - w0, "bytes_paint": b1 - b0, "bytes": b2 - b0,
                        "changed_cells": changed_cells(before, after),
                        "minimal_bytes": minimal_update_bytes(before, after)})
        before = after
    return out


async def measure_filter(h: Harness, samples: int) -> list[dict]:
    """Keystrokes in the filter: from the key event (as the driver posts it)
    to the frame that repaints the table with the filtered rows. Types
    "prod eu", then erases it one backspace at a time (the last one brings
    back the whole table). Each keystroke waits for the screen to settle
    before the next, as a typist slower than the frame rate would."""
    from textual.widgets import Input

    if not samples:
        return []
    app = h.app
    table = app.table
    app.post_message(key("slash"))
    await h.until(lambda: isinstance(app.focused, Input))
    presses = FILTER_TYPING + ["backspace"] * len(FILTER_TYPING)
    typed = ""
    out = []
    for name in (presses * (samples // len(presses) + 1))[:samples]:
        typed = typed[:-1] if name == "backspace" else typed + name
        expected = typed
        shown = h.frame_where(lambda expected=expected: table.filter_text == expected and h.repaints(table))
        c0, w0 = time.thread_time(), time.perf_counter()
        app.post_message(key("space" if name == " " else name))
        painted_at = await shown
        c1 = time.thread_time()
        await h.until(lambda: True)
        out.append({"wall": painted_at - w0, "main": c1 - c0, "settled": time.perf_counter() - w0,
                    "text": expected, "rows": len(table.rows)})
    app.post_message(key("escape"))
    await h.until(lambda: table.filter_text == "")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.child")
    parser.add_argument("app", choices=["bare", "dashboard"])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--db")
    parser.add_argument("--records", type=int, default=0)
    parser.add_argument("--session", action="store_true")
    parser.add_argument("--now", type=float, default=0.0)
    parser.add_argument("--ticks", type=int, default=20, help="measured ticks per view")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured ticks before each view")
    parser.add_argument("--views", default="top", help="comma-separated: top, soon")
    parser.add_argument("--keys", type=int, default=14)
    args = parser.parse_args(argv)
    result: dict = {}
    try:
        (run_bare if args.app == "bare" else run_dashboard)(args, result)
    finally:
        args.out.write_text(json.dumps(result))
    return 3 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
