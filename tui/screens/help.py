"""Help: keys, status bands, where data lives."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from .base import KeysModal

HELP = """\
# momento-keys

Every Momento API key you track, with a live countdown to its expiry.

## Keys

| key | action |
|---|---|
| `↑` `↓` / `j` `k` | move |
| `PgUp` `PgDn` / `g` `G` | page, first, last |
| `Enter` | details of the selected key |
| `/` | filter (name, region, kind, notes, tags; several words narrow) |
| `Esc` | clear the filter, close a dialog, go back |
| `s` | sort: expiry → status → name |
| `n` | generate a new key or short-lived token (the wizard) |
| `i` | import a key (paste it or give a file path) |
| `r` | reminders: due first; snooze, dismiss, open, rotate |
| `R` | rotate the selected key |
| `t` | timeline: the next 90 days, week by week |
| `ctrl+r` | reload from the database (it also reloads by itself) |
| `e` | edit name, notes, tags, key type, thresholds |
| `d` | delete (asks first) |
| `c` | copy the key to the clipboard (cleared after 45 s) |
| `ctrl+p` | all commands |
| `q` | quit |

In the detail view: `r` reveals the key for 20 s, `c` copies it, `e` edits, `R` rotates, `d` deletes.
In the wizard: `ctrl+n` next, `ctrl+b` back, `Esc` cancel.

## Status bands

| band | meaning |
|---|---|
| ● OK | more than the warning threshold left |
| ▲ WARNING | 14 days left, or 2/3 of the key's lifetime used (whichever first) |
| ◆ CRITICAL | 3 days left, or 90 % of the lifetime used |
| ✖ EXPIRED | past its expiry: it no longer works |
| ∞ NEVER | never expires: Momento advises against such keys; rotate them |
| ? UNKNOWN | the expiry could not be read (e.g. a v2 key without one) |

Thresholds come from the settings file and can be set per key (`e`).

## Where things live

Secrets (keys and refresh tokens) live only in the OS keyring. The database
holds metadata: names, endpoints, expiries, fingerprints, events.
`momento-keys doctor` shows both and what to fix.

## Headless

`momento-keys list`, `check` (exit 0 ok, 1 warning, 2 critical/expired,
3 unknown/error), `import`, `inspect`, `doctor`, `generate`, `verify`,
`export`, `env`, `reminders`, `snooze`, `dismiss`, `rotate`, `notify`,
`metrics`. See `momento-keys --help`.
"""


class HelpScreen(KeysModal[None]):
    BINDINGS = [Binding("escape,q,question_mark", "leave", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help-body"):
            yield Markdown(HELP)
