"""Everything about one key: metadata, expiry, permissions, events, its secret."""

from __future__ import annotations

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from ..core.model import Event, KeyRecord, Status
from ..core.policy import GLYPHS, LABELS, countdown, status_of, thresholds_for
from ..core.report import iso_utc, local_time
from ..services.keeper import KeeperError
from ..services.store import StoreError
from ..services.vault import VaultError
from ..widgets.footer import KeysFooter

REVEAL_SECONDS = 20


def _hosts(endpoint: str | None) -> list[tuple[str, str]]:
    if not endpoint:
        return [("endpoint", "unknown — set it with e (edit)")]
    return [
        ("endpoint", endpoint),
        ("control", f"control.{endpoint}"),
        ("cache", f"cache.{endpoint}"),
        ("token", f"token.{endpoint}"),
        ("http", f"https://api.cache.{endpoint}"),
    ]


def _kv(rows: list[tuple[str, str]]) -> str:
    width = max((len(k) for k, _ in rows), default=0)
    return "\n".join(f"[dim]{k.rjust(width)}[/dim]  {escape(v)}" for k, v in rows)


def describe_permissions(perms: list[dict] | None) -> list[str]:
    if not perms:
        return []
    try:
        from ..core.permissions import describe, from_json

        return [describe(g) for g in from_json(perms)]
    except Exception:  # an older/unknown shape: show it raw rather than fail
        return [str(p) for p in perms]


class DetailScreen(Screen):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="detail.back"),
        Binding("r", "reveal", "Reveal", id="detail.reveal"),
        Binding("c", "copy", "Copy key", id="detail.copy"),
        Binding("e", "edit", "Edit", id="detail.edit"),
        Binding("R", "rotate", "Rotate", id="detail.rotate"),
        Binding("d", "delete", "Delete", id="detail.delete"),
    ]

    def __init__(self, record: KeyRecord) -> None:
        super().__init__()
        self.record = record
        self.revealed: str | None = None
        self._reveal_timer = None
        self.events: list[Event] = []
        # Is the secret really in the keyring? None until checked (or when it cannot be:
        # read-only mode never touches the keyring; a locked keyring cannot say).
        self.secret_present: bool | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail-body"):
            yield Static("", id="status-line")
            yield Static("Key", classes="section")
            yield Static("", id="identity", classes="kv")
            yield Static("Secret", classes="section")
            yield Static("", id="secret")
            yield Static("Expiry", classes="section")
            yield Static("", id="expiry", classes="kv")
            yield Static("Endpoint", classes="section")
            yield Static("", id="endpoint", classes="kv")
            yield Static("Permissions", classes="section")
            yield Static("", id="permissions", classes="kv")
            yield Static("Where it is used", classes="section")
            yield Static("", id="usage", classes="kv")
            yield Static("Reminders", classes="section")
            yield Static("", id="key-reminders", classes="kv")
            yield Static("Lineage", classes="section")
            yield Static("", id="lineage", classes="kv")
            yield Static("Events", classes="section")
            yield DataTable(id="events", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if getattr(self.app, "readonly", False) and action in ("reveal", "copy", "edit", "delete", "rotate"):
            return False
        return True

    def on_mount(self) -> None:
        table = self.query_one("#events", DataTable)
        table.add_columns("when", "event", "detail")
        self.sub_title = self.record.name
        self.render_all()
        self.load_events()
        self.check_secret()

    # ---- data --------------------------------------------------------------------
    def records_changed(self) -> None:
        """The app reloaded: take the fresh copy of this record (or leave if it is gone)."""
        try:
            fresh = self.app.keeper.store.get(self.record.id)  # type: ignore[attr-defined]
        except StoreError:
            fresh = None
        if fresh is None:
            self.app.notify(f"{self.record.name!r} was deleted elsewhere", severity="warning")
            self.app.pop_screen()
            return
        self.record = fresh
        self.render_all()
        self.load_events()
        self.check_secret()

    def check_secret(self) -> None:
        """Look up (off the UI thread) whether the keyring still holds this key's secret."""
        if not self.record.secret_stored or getattr(self.app, "readonly", False):
            return
        self._check_secret(self.record)

    @work(thread=True, exclusive=True, group="secret-presence")
    def _check_secret(self, record: KeyRecord) -> None:
        present = self.app.keeper.vault.presence(record.fingerprint)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._show_presence, record.id, present)

    def _show_presence(self, record_id: int | None, present: bool | None) -> None:
        if record_id != self.record.id:
            return
        self.secret_present = present
        self.render_secret()

    @work(thread=True, exclusive=True, group="events")
    def load_events(self) -> None:
        assert self.record.id is not None
        store = self.app.keeper.store  # type: ignore[attr-defined]
        try:
            events = store.events(self.record.id)
            reminders = store.reminders(key_id=self.record.id)
            before, after = store.lineage(self.record.id)
        except StoreError:
            return
        self.app.call_from_thread(self._show_events, events)
        self.app.call_from_thread(self._show_related, reminders, before, after)

    def _show_related(self, reminders, before: list[KeyRecord], after: list[KeyRecord]) -> None:
        from ..core.reminders import message

        now = self.app.keeper.clock.now()  # type: ignore[attr-defined]
        if reminders:
            lines = []
            for rem in reminders:
                state = rem.effective_state(now).value
                lines.append(f"[b]{state.upper()}[/b] {rem.kind.value} · {local_time(rem.when())} — "
                             f"{escape(message(rem, self.record, now))}")
            self.query_one("#key-reminders", Static).update("\n".join(lines))
        else:
            self.query_one("#key-reminders", Static).update("[dim]none open[/dim]")
        r = self.record
        chain = [*before, r, *after]
        if len(chain) == 1:
            self.query_one("#lineage", Static).update("[dim]no rotations yet: R rotates this key[/dim]")
            return
        lines = []
        for i, k in enumerate(chain):
            marker = "▶" if k.id == r.id else " "
            grace = ""
            if k.lifecycle.value == "previous" and k.expires_at:
                left = k.expires_at - now
                grace = (f" — grace window: works until {local_time(k.expires_at)} ({countdown(left)} left)"
                         if left > 0 else " — grace window over")
            lines.append(f"{marker} {i + 1}. {escape(k.name)} {escape(f'[{k.lifecycle.value}]')} "
                         f"expires {local_time(k.expires_at)} · {k.fingerprint}{grace}")
        self.query_one("#lineage", Static).update("\n".join(lines))

    def _show_events(self, events: list[Event]) -> None:
        self.events = events
        table = self.query_one("#events", DataTable)
        table.clear()
        for e in events:
            table.add_row(local_time(e.at), e.action, e.detail)

    # ---- rendering ------------------------------------------------------------------
    def _status(self) -> Status:
        keeper = self.app.keeper  # type: ignore[attr-defined]
        return status_of(self.record, keeper.clock.now(), keeper.settings.thresholds)

    def render_all(self) -> None:
        r = self.record
        keeper = self.app.keeper  # type: ignore[attr-defined]
        self.query_one("#identity", Static).update(_kv([
            ("name", r.name),
            ("kind", r.kind.value + (" (disposable token)" if r.kind.value == "disposable" else "")),
            ("key type", r.key_type.value + (" — not readable from the key; set with e" if r.key_type.value == "unknown" else "")),
            ("lifecycle", r.lifecycle.value),
            ("fingerprint", r.fingerprint),
            ("source", r.source or "pasted"),
            ("tracked since", local_time(r.created_at)),
        ]))
        self.query_one("#endpoint", Static).update(_kv([
            *_hosts(r.endpoint),
            ("region", f"{r.region} ({r.provider})" if r.region else "unknown (private cell or unrecognised host)"),
        ]))
        perms = describe_permissions(r.permissions)
        if perms:
            text = "\n".join(f"• {escape(p)}" for p in perms)
        elif r.key_type.value == "super-user":
            text = "everything: cache and topic data, cache management, and the auth API (super user)"
        else:
            text = "[dim]not known: keys imported from elsewhere don't carry readable permissions[/dim]"
        self.query_one("#permissions", Static).update(text)
        usage = [("notes", r.notes or "—"), ("tags", ", ".join(r.tags) or "—")]
        self.query_one("#usage", Static).update(_kv(usage))
        t = thresholds_for(r, keeper.settings.thresholds)
        self._thresholds_text = f"warning at {countdown(t.warning_seconds)} or {t.warning_fraction:.0%} used, " \
                                f"critical at {countdown(t.critical_seconds)} or {t.critical_fraction:.0%} used" + \
                                (" (per-key)" if r.warning_seconds or r.critical_seconds else "")
        self.render_secret()
        self.tick()

    def tick(self) -> None:
        r = self.record
        now = self.app.keeper.clock.now()  # type: ignore[attr-defined]
        status = self._status()
        line = self.query_one("#status-line", Static)
        for s in Status:
            line.remove_class(f"-{s.value}")
        line.add_class(f"-{status.value}")
        if r.expires_at is None:
            left = "never expires — Momento advises against keys that never expire; plan a rotation" \
                if r.never_expires else "expiry unknown"
        elif r.expires_at <= now:
            left = f"expired {countdown(now - r.expires_at)} ago"
        else:
            left = f"{countdown(r.expires_at - now)} left"
        line.update(f"{GLYPHS[status]} {LABELS[status]} · {escape(r.name)} · {left}")
        self.query_one("#expiry", Static).update(_kv([
            ("expires", local_time(r.expires_at, never="never" if r.never_expires else "unknown")
             + (f"  ({iso_utc(r.expires_at)})" if r.expires_at else "")),
            ("left", left),
            ("issued", local_time(r.issued_at, never="unknown")),
            ("expiry from", {"valid_until": "the generate/refresh response", "console_json": "the console's Download JSON",
                             "v2_metadata": "the key's metadata", "jwt_exp": "the token's exp claim",
                             "jwt_no_exp": "the token (it has no exp claim)", "user": "you",
                             "unknown": "nothing: unknown"}.get(r.expiry_source.value, r.expiry_source.value)),
            ("thresholds", self._thresholds_text),
            ("refresh token", "held in the keyring" if r.has_refresh_token and r.secret_stored
             else ("yes, but not stored" if r.has_refresh_token else "none")),
        ]))

    def render_secret(self) -> None:
        box = self.query_one("#secret", Static)
        r = self.record
        if not r.secret_stored:
            box.update("[dim]not stored: momento-keys tracks only this key's metadata "
                       "(no secure keyring when it was imported)[/dim]")
            box.remove_class("-revealed")
            return
        if self.secret_present is False and self.revealed is None:
            box.update("[b]✖ secret missing[/b]: the keyring no longer holds this key (deleted outside "
                       f"momento-keys?) · fingerprint {escape(r.fingerprint)}\n"
                       "[dim]import the key again to restore it, or run `momento-keys doctor`[/dim]")
            box.remove_class("-revealed")
            return
        if self.revealed is not None:
            box.update(f"{escape(self.revealed)}\n[b]revealed — hides itself in {REVEAL_SECONDS}s (r hides now)[/b]")
            box.add_class("-revealed")
        else:
            box.update(f"{escape(self._masked())}   [dim]r reveal · c copy[/dim]")
            box.remove_class("-revealed")

    def _masked(self) -> str:
        return "•" * 12 + f"  ({self.record.fingerprint})"

    # ---- actions --------------------------------------------------------------------
    def action_reveal(self) -> None:
        if self.revealed is not None:
            self.hide()
            return
        self._fetch_secret()

    @work(thread=True, exclusive=True, group="reveal")
    def _fetch_secret(self) -> None:
        try:
            value = self.app.keeper.secret(self.record, why="revealed")  # type: ignore[attr-defined]
        except (KeeperError, VaultError, StoreError) as exc:
            self.app.call_from_thread(self.app.notify, str(exc), title="Reveal", severity="error")
            self.app.call_from_thread(self.check_secret)  # show "secret missing" if that is why
            return
        self.app.call_from_thread(self._show_secret, value)

    def _show_secret(self, value: str) -> None:
        self.revealed = value
        self.render_secret()
        if self._reveal_timer is not None:
            self._reveal_timer.stop()
        self._reveal_timer = self.set_timer(REVEAL_SECONDS, self.hide)
        self.notify(f"Revealed the key of {self.record.name!r} for {REVEAL_SECONDS}s", timeout=3)
        self.load_events()

    def hide(self) -> None:
        self.revealed = None
        if self._reveal_timer is not None:
            self._reveal_timer.stop()
            self._reveal_timer = None
        self.render_secret()

    def on_screen_suspend(self) -> None:
        # Never leave a revealed key on a screen the user is not looking at.
        self.hide()

    def action_copy(self) -> None:
        self.app.copy_secret(self.record)  # type: ignore[attr-defined]
        self.set_timer(0.5, self.load_events)

    def action_edit(self) -> None:
        self.app.action_edit_selected()  # type: ignore[attr-defined]

    def action_delete(self) -> None:
        self.app.action_delete_selected()  # type: ignore[attr-defined]

    def action_rotate(self) -> None:
        self.app.rotate(self.record)  # type: ignore[attr-defined]
