"""Everything about one key: metadata, expiry, permissions, events, its secret."""

from __future__ import annotations

from functools import partial

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, Static

from ..core.model import Event, KeyRecord, Kind, Lifecycle, Status
from ..core.policy import GLYPHS, LABELS, countdown, status_of, thresholds_for
from ..core.reminders import Reminder
from ..core.report import iso_utc, local_time
from ..core.text import terminal_safe
from ..widgets.footer import KeysFooter
from .base import KeysScreen, safe_work

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


def _kv(rows: list[tuple[str, str]]) -> Content:
    """Label and value lines, labels dimmed and aligned; values are text, never markup, and
    never reach the terminal as escape sequences (notes kept by an older version, an
    account's descriptions)."""
    width = max((cell_len(k) for k, _ in rows), default=0)
    parts: list[str | tuple[str, str]] = []
    for n, (k, v) in enumerate(rows):
        parts += ["\n"] if n else []
        parts += [(" " * (width - cell_len(k)) + k, "dim"), "  ", terminal_safe(v)]
    return Content.assemble(*parts)


def describe_permissions(perms: list[dict] | None) -> list[str]:
    if not perms:
        return []
    try:
        from ..core.permissions import describe, from_json

        return [describe(g) for g in from_json(perms)]
    except Exception:
        return [str(p) for p in perms]


SOURCE_WORDS = {"raw": "pasted or read from a file", "console_json": "the console's Download JSON",
                "generated": "made by momento-keys", "rotation": "a rotation by momento-keys",
                "adopted": "adopted after an interrupted run", "account": "listed by an account sync (no secret here)"}


def source_words(source: str | None) -> str:
    """Where a key came from, in words (record.source holds an identifier)."""
    if not source:
        return SOURCE_WORDS["raw"]
    if source.startswith("momento_cli:"):
        return f"the Momento CLI's profile {source.split(':', 1)[1]!r}"
    return SOURCE_WORDS.get(source, source)


EXPIRY_FROM = {"valid_until": "the generate/refresh response", "console_json": "the console's Download JSON",
               "v2_metadata": "the key's metadata", "jwt_exp": "the token's exp claim",
               "jwt_no_exp": "the token (it has no exp claim)", "user": "you", "unknown": "nothing: unknown"}


class DetailScreen(KeysScreen[None]):
    BINDINGS = [
        Binding("escape,backspace", "leave", "Back", id="detail.back"),
        Binding("r", "reveal", "Reveal", id="detail.reveal"),
        Binding("c", "copy", "Copy key", id="detail.copy"),
        Binding("e", "edit", "Edit", id="detail.edit"),
        Binding("R", "rotate", "Rotate", id="detail.rotate"),
        Binding("d", "delete", "Delete", id="detail.delete"),
        Binding("X", "revoke", "Revoke", id="detail.revoke"),
        Binding("l", "link", "Link to account key", id="detail.link"),
    ]

    def __init__(self, record: KeyRecord) -> None:
        super().__init__()
        self.record = record
        self.revealed: str | None = None
        self._reveal_timer: Timer | None = None
        self.events: list[Event] = []
        # Is the secret really in the keyring? None until checked (or when it cannot be:
        # read-only mode never touches the keyring; a locked keyring cannot say).
        self.secret_present: bool | None = None
        self._thresholds_text = ""
        self.sub_title = record.name  # (set before mounting: see MomentoKeysApp.refresh_title)

    @property
    def key_id(self) -> int | None:
        return self.record.id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail-body"):
            yield Static("", id="status-line")
            yield Static("Key", classes="section")
            yield Static("", id="identity", classes="kv")
            yield Static("Account (v2)", classes="section", id="account-section")
            yield Static("", id="account", classes="kv")
            yield Input(placeholder="The account's key id (momento-keys sync, or the Momento console, shows it); "
                                    "Enter links, Esc cancels", id="link-input")
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.services.readonly and action in ("reveal", "copy", "edit", "delete", "rotate", "revoke", "link"):
            return False
        r = self.record
        if action == "revoke":  # offered for v2 keys linked to their account key, not yet revoked
            return r.kind is Kind.V2 and r.key_id is not None and r.lifecycle is not Lifecycle.RETIRED
        if action == "link":  # offered for v2 keys not linked yet
            return r.kind is Kind.V2 and r.key_id is None and r.lifecycle is not Lifecycle.RETIRED
        return True

    def on_mount(self) -> None:
        self.query_one("#link-input").display = False
        table = self.query_one("#events", DataTable)
        table.add_columns("when", "event", "detail")
        self.render_all()
        self.load_related(self.record.id)
        self.check_secret()

    # ---- data --------------------------------------------------------------------
    def records_changed(self) -> None:
        """The app reloaded: take the fresh copy of this record (or leave if it is gone)."""
        self.load_related(self.record.id, fresh=True)

    def check_secret(self) -> None:
        """Look up (off the UI thread) whether the keyring still holds this key's secret."""
        if self.record.secret_stored and not self.services.readonly:
            self._check_secret(self.record)

    @safe_work("Keyring", group="secret-presence", exclusive=True)
    def _check_secret(self, record: KeyRecord) -> None:
        present = self.services.vault.presence(record.fingerprint)
        self.from_worker(self._show_presence, record.id, present)

    def _show_presence(self, record_id: int | None, present: bool | None) -> None:
        if record_id == self.record.id:
            self.secret_present = present
            self.render_secret()

    @safe_work("Database", group="events", exclusive=True)
    def load_related(self, record_id: int | None, fresh: bool = False) -> None:
        """Events, reminders and lineage of this key (and, after a reload, the key itself)."""
        from ..services.store import StoreError

        assert record_id is not None
        store = self.services.store
        record = None
        if fresh:
            try:
                record = store.get(record_id)
            except StoreError:
                self.from_worker(self._gone, record_id)
                return
        events = store.events(record_id)
        reminders = store.reminders(key_id=record_id)
        before, after = store.lineage(record_id)
        self.from_worker(self._show_related, record, events, reminders, before, after)

    def _gone(self, record_id: int) -> None:
        if record_id == self.record.id:
            self.notify(f"{self.record.name!r} was deleted elsewhere", severity="warning")
            self.dismiss()

    def _show_related(self, record: KeyRecord | None, events: list[Event], reminders: list[Reminder],
                      before: list[KeyRecord], after: list[KeyRecord]) -> None:
        if record is not None:
            if record.id != self.record.id:
                return
            self.record = record
            self.sub_title = record.name
            self.render_all()
            self.refresh_bindings()
            self.check_secret()
        self._show_events(events)
        self._show_reminders(reminders)
        self._show_lineage(before, after)

    def _show_reminders(self, reminders: list[Reminder]) -> None:
        from ..core.reminders import message

        now = self.services.clock.now()
        box = self.query_one("#key-reminders", Static)
        if not reminders:
            box.update(Content.styled("none open", "dim"))
            return
        lines = []
        for rem in reminders:
            state = rem.effective_state(now).value
            lines.append(Content.assemble((state.upper(), "bold"), f" {rem.kind.value} · {local_time(rem.when())} — "
                                          f"{message(rem, self.record, now)}"))
        box.update(Content("\n").join(lines))

    def _show_lineage(self, before: list[KeyRecord], after: list[KeyRecord]) -> None:
        r = self.record
        now = self.services.clock.now()
        chain = [*before, r, *after]
        box = self.query_one("#lineage", Static)
        if len(chain) == 1:
            box.update(Content.styled("no rotations yet: R rotates this key", "dim"))
            return
        lines = []
        for i, k in enumerate(chain):
            marker = "▶" if k.id == r.id else " "
            grace = ""
            if k.lifecycle.value == "previous" and k.expires_at:
                left = k.expires_at - now
                grace = (f" — grace window: works until {local_time(k.expires_at)} ({countdown(left)} left)"
                         if left > 0 else " — grace window over")
            lines.append(f"{marker} {i + 1}. {k.name} [{k.lifecycle.value}] "
                         f"expires {local_time(k.expires_at)} · {k.fingerprint}{grace}")
        box.update(Text("\n".join(lines)))

    def _show_events(self, events: list[Event]) -> None:
        self.events = events
        table = self.query_one("#events", DataTable)
        table.clear()
        for e in events:
            table.add_row(local_time(e.at), Text(e.action), Text(e.detail))

    # ---- rendering ------------------------------------------------------------------
    def _status(self) -> Status:
        services = self.services
        return status_of(self.record, services.clock.now(), services.settings.thresholds)

    def render_all(self) -> None:
        r = self.record
        self.query_one("#identity", Static).update(_kv([
            ("name", r.name),
            ("kind", r.kind.value + (" (disposable token)" if r.kind.value == "disposable" else "")),
            ("key type", r.key_type.value + (" — not readable from the key; set with e" if r.key_type.value == "unknown" else "")),
            ("lifecycle", r.lifecycle.value),
            ("fingerprint", r.fingerprint),
            ("came from", source_words(r.source)),
            ("tracked since", local_time(r.created_at)),
        ]))
        self.render_account()
        self.query_one("#endpoint", Static).update(_kv([
            *_hosts(r.endpoint),
            ("region", f"{r.region} ({r.provider})" if r.region else "unknown (private cell or unrecognised host)"),
        ]))
        perms = describe_permissions(r.permissions)
        permissions: Content | Text
        if perms:
            permissions = Text("\n".join(f"• {p}" for p in perms))
        elif r.key_type.value == "super-user":
            permissions = Text("everything: cache and topic data, cache management, and the auth API (super user)")
        else:
            permissions = Content.styled("not known: keys imported from elsewhere don't carry readable permissions",
                                         "dim")
        self.query_one("#permissions", Static).update(permissions)
        usage = [("notes", r.notes or "—"), ("tags", ", ".join(r.tags) or "—")]
        self.query_one("#usage", Static).update(_kv(usage))
        t = thresholds_for(r, self.services.settings.thresholds)
        self._thresholds_text = f"warning at {countdown(t.warning_seconds)} or {t.warning_fraction:.0%} used, " \
                                f"critical at {countdown(t.critical_seconds)} or {t.critical_fraction:.0%} used" + \
                                (" (per-key)" if r.warning_seconds or r.critical_seconds else "")
        self.render_secret()
        self.tick()

    def render_account(self) -> None:
        """What the account says about a v2 key (the section is hidden for other kinds)."""
        r = self.record
        shown = r.kind is Kind.V2 or r.key_id is not None
        self.query_one("#account-section").display = shown
        box = self.query_one("#account", Static)
        box.display = shown
        if not shown:
            return
        role = self.host.roles.get(r.role_id) if r.role_id else None
        if r.role_name or r.role_id:
            role_text = r.role_name or r.role_id or ""
            if r.role_name and r.role_id:
                role_text += f" ({r.role_id})"
        else:
            role_text = "not known: a sync (S on the dashboard) reads it"
        rows = [
            ("key id", r.key_id or "not linked: l links it (or a sync matches it when it can)"),
            ("role", role_text),
        ]
        if role is not None:
            from ..core.roles import summarize

            rows.append(("grants", summarize(role)))
        rows += [
            ("description", r.description or "—"),
            ("synced at", local_time(r.synced_at, never="never: S on the dashboard syncs the account")),
        ]
        if r.revoked_at is not None:
            rows.append(("revoked at", local_time(r.revoked_at)))
        if not r.secret_stored and r.source == "account":
            rows.append(("secret", "not held here: listed by the account sync (metadata only)"))
        box.update(_kv(rows))

    def tick(self) -> None:
        r = self.record
        now = self.services.clock.now()
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
        line.update(Text(f"{GLYPHS[status]} {LABELS[status]} · {r.name} · {left}"))
        self.query_one("#expiry", Static).update(_kv([
            ("expires", local_time(r.expires_at, never="never" if r.never_expires else "unknown")
             + (f"  ({iso_utc(r.expires_at)})" if r.expires_at else "")),
            ("left", left),
            ("issued", local_time(r.issued_at, never="unknown")),
            ("expiry from", EXPIRY_FROM.get(r.expiry_source.value, r.expiry_source.value)),
            ("thresholds", self._thresholds_text),
            ("refresh token", "held in the keyring" if r.has_refresh_token and r.secret_stored
             else ("yes, but not stored" if r.has_refresh_token else "none")),
        ]))

    def render_secret(self) -> None:
        box = self.query_one("#secret", Static)
        r = self.record
        box.remove_class("-revealed")
        if not r.secret_stored:
            box.update(Content.styled("not stored: momento-keys tracks only this key's metadata "
                                      "(no secure keyring when it was imported)", "dim"))
        elif self.secret_present is False and self.revealed is None:
            box.update(Content.assemble(
                ("✖ secret missing", "bold"), ": the keyring no longer holds this key (deleted outside "
                f"momento-keys?) · fingerprint {r.fingerprint}\n",
                ("import the key again to restore it, or run `momento-keys doctor`", "dim")))
        elif self.revealed is not None:
            box.update(Content.assemble(self.revealed, "\n",
                                        (f"revealed — hides itself in {REVEAL_SECONDS}s (r hides now)", "bold")))
            box.add_class("-revealed")
        else:
            box.update(Content.assemble(self._masked(), "   ", ("r reveal · c copy", "dim")))

    def _masked(self) -> str:
        return "•" * 12 + f"  ({self.record.fingerprint})"

    # ---- actions --------------------------------------------------------------------
    def action_reveal(self) -> None:
        if self.revealed is not None:
            self.hide()
            return
        self._fetch_secret(self.record)

    @safe_work("Reveal", group="reveal", exclusive=True)
    def _fetch_secret(self, record: KeyRecord) -> None:
        try:
            value = self.services.keeper.secret(record, why="revealed")
        except Exception:
            self.from_worker(self.check_secret)  # show "secret missing" if that is why
            raise
        self.from_worker(self._show_secret, record.id, value)

    def _show_secret(self, record_id: int | None, value: str) -> None:
        if record_id != self.record.id or self.is_current is False:
            return
        self.revealed = value
        self.render_secret()
        if self._reveal_timer is not None:
            self._reveal_timer.stop()
        self._reveal_timer = self.set_timer(REVEAL_SECONDS, self.hide)
        self.notify(f"Revealed the key of {self.record.name!r} for {REVEAL_SECONDS}s", timeout=3)
        self.load_related(self.record.id)

    def hide(self) -> None:
        self.revealed = None
        if self._reveal_timer is not None:
            self._reveal_timer.stop()
            self._reveal_timer = None
        if self.is_mounted:
            self.render_secret()

    def on_screen_suspend(self) -> None:
        # Never leave a revealed key on a screen the user is not looking at.
        self.hide()

    def action_copy(self) -> None:
        if self.record.id is not None:
            self.host.action_copy(self.record.id)
            self.set_timer(0.5, partial(self.load_related, self.record.id))

    def action_edit(self) -> None:
        if self.record.id is not None:
            self.host.action_edit(self.record.id)

    def action_delete(self) -> None:
        if self.record.id is not None:
            self.host.action_delete(self.record.id)

    def action_rotate(self) -> None:
        if self.record.id is not None:
            self.host.action_rotate(self.record.id)

    def action_revoke(self) -> None:
        if self.record.id is not None:
            self.host.action_revoke(self.record.id)

    # ---- linking a v2 key to its account key ---------------------------------------------------
    def action_link(self) -> None:
        box = self.query_one("#link-input", Input)
        box.display = True
        box.focus()

    def _close_link(self) -> None:
        box = self.query_one("#link-input", Input)
        box.value = ""
        box.display = False
        self.query_one("#detail-body").focus()

    def action_leave(self) -> None:
        """Esc: closes the key-id box first, when it is open."""
        if self.is_mounted and self.query_one("#link-input", Input).display:
            self._close_link()
            return
        super().action_leave()

    @on(Input.Submitted, "#link-input")
    def _link_submitted(self, event: Input.Submitted) -> None:
        key_id = event.value.strip()
        if not key_id:
            self._close_link()
            return
        self.link_key(self.record, key_id)

    @safe_work("Link", group="link", exclusive=True)
    def link_key(self, record: KeyRecord, key_id: str) -> None:
        from ..services.sync import link

        linked = link(self.services.keeper, record, key_id)
        self.from_worker(self._linked, linked)

    def _linked(self, record: KeyRecord) -> None:
        self._close_link()
        self.record = record
        self.render_all()
        self.refresh_bindings()
        self.notify(f"Linked {record.name!r} to the account key {record.key_id}: syncs match it exactly, and it "
                    "can be revoked and rotated from here", title="Linked")
        self.keys_changed()
