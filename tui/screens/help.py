"""Help: the keys as they are bound now, the status bands with the configured thresholds,
where data lives, the headless commands.

Built when it opens, from what is live: the app passes every binding id with the keys that
trigger it (the settings' ``[bindings]`` applied: a remapped key shows as remapped), and
the thresholds and clipboard time come from the settings. Each row names its binding id,
the name ``[bindings]`` remaps it by. It scrolls (↑ ↓, PgUp PgDn), so it reads at 60×20.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.widgets import Static

from ..core.keymap import SECTIONS
from ..core.model import Status, Thresholds
from ..core.policy import GLYPHS, LABELS, countdown
from ..services.config import Settings, config_path
from .base import KeysModal

WIDE = 84  # from this many columns of text on, binding ids get a column of their own

HEADLESS = [
    ("momento-keys list", "every key, its status and time left (--json)"),
    ("momento-keys check", "for monitoring: exit 0 ok, 1 warning, 2 critical or expired, 3 unknown or error"),
    ("momento-keys metrics", "Prometheus text format (--textfile for node_exporter)"),
    ("momento-keys reminders", "open reminders, due first; snooze, dismiss (--done), notify for cron"),
    ("momento-keys import · inspect · export · env · exec", "keys in and out"),
    ("momento-keys generate · verify · rotate · sync · revoke · link", "through Momento"),
    ("momento-keys doctor · config show", "what is wrong and how to fix it; every setting and path"),
]


def duration_text(seconds: int) -> str:
    """A threshold as a person says it: "14 days", "36 hours", else the short form."""
    for unit, name in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds >= unit and seconds % unit == 0:
            n = seconds // unit
            return f"{n} {name}{'s' if n != 1 else ''}"
    return countdown(seconds)


def percent(fraction: float) -> str:
    return f"{fraction * 100:.0f} %"


def heading(text: str) -> Text:
    return Text(f"\n{text}", style="bold underline")


def grid(key_width: int) -> Table:
    """Two columns: keys (bold, one width for every table, so they line up) and text."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column("keys", style="bold", width=key_width)
    table.add_column("text", ratio=1)
    return table


def key_rows(keys: Mapping[str, list[str]], settings: Settings, wide: bool) -> list[RenderableType]:
    """One table per section of tui.core.keymap: keys (as bound now), what they do, binding ids."""
    clear = settings.clipboard_clear_seconds
    clear_after = f"cleared after {duration_text(clear)}" if clear else "kept: clearing is off"
    sections: list[tuple[str, list[tuple[str, str, str]]]] = []
    for title, rows in SECTIONS:
        shown: list[tuple[str, str, str]] = []
        for ids, text in rows:
            bound = " ".join(dict.fromkeys(k for i in ids for k in keys.get(i, [])))
            if bound:  # (none: a binding this build does not have, or one remapped to nothing)
                shown.append((bound, text.format(clear_after=clear_after), " ".join(ids)))
        if shown:
            sections.append((title, shown))
    width = key_width(keys)
    id_width = max((cell_len(names) for _, shown in sections for _, _, names in shown), default=0)
    out: list[RenderableType] = []
    for title, shown in sections:
        table = grid(width)
        if wide:
            table.add_column("id", style="dim", width=min(id_width, 24))
        for keys_text, text, names in shown:
            if wide:
                table.add_row(keys_text, text, names)
            else:
                table.add_row(keys_text, Text(text).append(f"  {names}", style="dim"))
        out += [heading(title), table]
    return out


def key_width(keys: Mapping[str, list[str]]) -> int:
    """The keys column: as wide as the widest row's keys, within 8..14 (longer ones wrap)."""
    widest = max((cell_len(" ".join(dict.fromkeys(k for i in ids for k in keys.get(i, []))))
                  for _, rows in SECTIONS for ids, _ in rows), default=6)
    return max(8, min(widest, 14))


def bands(t: Thresholds) -> Table:
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column("band", no_wrap=True)
    table.add_column("meaning", ratio=1)
    rows = [
        (Status.OK, f"more than {duration_text(t.warning_seconds)} left, and less than "
                    f"{percent(t.warning_fraction)} of its lifetime used"),
        (Status.WARNING, f"{duration_text(t.warning_seconds)} left, or {percent(t.warning_fraction)} of its "
                         "lifetime used (whichever comes first): plan the rotation"),
        (Status.CRITICAL, f"{duration_text(t.critical_seconds)} left, or {percent(t.critical_fraction)} of its "
                          "lifetime used: rotate now"),
        (Status.EXPIRED, "past its expiry: it no longer works"),
        (Status.REVOKED, "revoked at Momento: it no longer works"),
        (Status.NEVER, "never expires: Momento advises against such keys; rotate them"),
        (Status.UNKNOWN, "the expiry could not be read (e.g. a v2 key without one)"),
    ]
    for status, meaning in rows:
        table.add_row(Text(f"{GLYPHS[status]} {LABELS[status]}", style="bold"), meaning)
    return table


def render_help(keys: Mapping[str, list[str]], settings: Settings, *, width: int = 120) -> Group:
    """The whole help text for a body ``width`` cells wide."""
    wide = width >= WIDE
    file = settings.source or config_path()
    parts: list[RenderableType] = [Text("Every Momento API key you track, with a live countdown to its expiry.")]
    if settings.unknown_bindings:
        from ..core.keymap import unknown_ids_message

        parts.append(Text("\n⚠ " + unknown_ids_message(list(settings.unknown_bindings), listing=False)
                          + ". The ids are the names after each action below.", style="bold"))
    for binding_id, bad in settings.not_keys:
        parts.append(Text(f"\n⚠ [bindings]: {binding_id} = {bad!r} is not a key; its default key stays.",
                          style="bold"))
    parts += key_rows(keys, settings, wide)
    palette = grid(key_width(keys))
    palette.add_row("^p", "all commands, every key by name, and the theme (remembered for the next start)")
    parts += [palette, Text.assemble(
        "Remap a key in the settings file, ", (str(file), "italic"), ": under [bindings], ",
        ("id = \"keys\"", "bold"), " (such as ", ("filter = \"f\"", "bold"),
        "); several keys are separated by commas.", style="dim")]
    t = settings.thresholds
    parts += [heading("Status bands"), bands(t), Text.assemble(
        "Thresholds: ", ("defaults" if settings.source is None else "from the settings file"),
        " ([thresholds] in ", (str(file), "italic"), "); a key can have its own (e on the dashboard). "
        f"Warning {duration_text(t.warning_seconds)} / {percent(t.warning_fraction)}, critical "
        f"{duration_text(t.critical_seconds)} / {percent(t.critical_fraction)}.", style="dim")]
    parts += [heading("Where things live"), Text(
        "Secrets (keys and refresh tokens) live only in the OS keyring. The database holds metadata: "
        "names, endpoints, expiries, fingerprints, events. momento-keys doctor shows both and what to fix; "
        "momento-keys config show, every setting and path.")]
    headless = [Text.assemble((command, "bold"), f": {what}") for command, what in HEADLESS]
    parts += [heading("Headless"), *headless, Text("More: momento-keys --help, momento-keys COMMAND --help.",
                                                    style="dim")]
    return Group(*parts)


class HelpScreen(KeysModal[None]):
    BINDINGS = [Binding("escape,q,question_mark", "leave", "Close", id="help.close")]

    def __init__(self, keys: Mapping[str, list[str]] | None = None) -> None:
        super().__init__()
        self.keys = dict(keys or {})
        self._width = 0
        self.shown: Group | None = None  # what the body shows now

    def compose(self) -> ComposeResult:
        close = (self.keys.get("help.close") or ["esc"])[0]
        with VerticalScroll(classes="dialog", id="help-body"):
            yield Static(Text.assemble(("Help", "bold"), "   ", (f"{close} closes · ↑ ↓ scroll", "dim")),
                         id="help-title")
            yield Static("", id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-body", VerticalScroll).focus()
        self._fill()

    def on_resize(self, _: Resize) -> None:
        self._fill()

    def _fill(self) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        width = body.scrollable_content_region.width or body.size.width
        if width and (width >= WIDE) == (self._width >= WIDE) and self._width:
            return  # the layout stays the same: the tables re-flow by themselves
        self._width = width or 120
        self.shown = render_help(self.keys, self.services.settings, width=self._width)
        self.query_one("#help-text", Static).update(self.shown)
