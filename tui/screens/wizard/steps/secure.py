"""Step 8: where the new key lives, when its reminders fall, and how to move it into a secret
manager (piped commands, each on one line so a mouse copy takes it whole)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from ....core.policy import band_changes, thresholds_for
from ....core.report import local_time
from ....core.text import shell_quote, slug
from .base import Step


def commands(name: str, *, v2: bool) -> list[tuple[str, str]]:
    """(what, shell command) to move the key ``name`` out of momento-keys without it ever
    appearing on a command line. `env` sets MOMENTO_ENDPOINT only for a v2 key (a v1 key
    carries its endpoint)."""
    env = "MOMENTO_API_KEY and MOMENTO_ENDPOINT" if v2 else "MOMENTO_API_KEY"
    q, s = shell_quote(name), slug(name)
    return [
        ("AWS Secrets Manager", (f"momento-keys export {q} --stdout | aws secretsmanager create-secret "
                                 f"--name momento/{s} --secret-string file:///dev/stdin")),
        ("Azure Key Vault", (f"momento-keys export {q} --stdout | az keyvault secret set --vault-name MY-VAULT "
                             f"--name momento-{s} --file /dev/stdin")),
        ("GCP Secret Manager", (f"momento-keys export {q} --stdout | gcloud secrets create momento-{s} "
                                "--data-file=-")),
        (f"A shell ({env})", f"eval \"$(momento-keys env {q} --stdout)\""),
    ]


class SecureStep(Step):
    # The commands never wrap (a mouse copy takes each whole); the step scrolls sideways instead.
    DEFAULT_CSS = """
    SecureStep { overflow-x: auto; }
    SecureStep #secure-commands { width: auto; text-wrap: nowrap; margin: 1 0; }
    """

    title = "Secure it"
    can_go_back = False
    next_label = "Done"
    can_cancel = False

    def compose(self) -> ComposeResult:
        yield self.title_widget()
        yield Static("", id="secure")
        yield Static("", id="secure-commands")
        yield Static(Text("Rotate it before it expires. Never paste it into chat, tickets or a command line."))
        yield self.problem

    def enter(self) -> None:
        s = self.state
        services = self.services
        text = Text()
        record = s.record
        if record is not None:
            text.append("Where it lives", "bold")
            text.append(f": your OS keyring ({services.vault.status.description}), entry key:{record.fingerprint}. "
                        "The database holds only metadata.\n")
            text.append("Reminders", "bold")
            if record.expires_at is not None:
                warn, crit = band_changes(record.expires_at, record.issued_at,
                                          thresholds_for(record, services.settings.thresholds))
                text.append(f": the dashboard turns it WARNING on {local_time(warn)}, CRITICAL on "
                            f"{local_time(crit)}, and EXPIRED on {local_time(record.expires_at)}. "
                            "`momento-keys check` in cron exits non-zero from the warning on.\n")
            else:
                text.append(": this key never expires — the dashboard flags it as a risk. Plan to replace it.\n")
        elif s.download_path:
            text.append("Where it lives", "bold")
            text.append(f": only in {s.download_path} (not in the keyring). Import it when your keyring works:\n")
            text.append(f"    momento-keys import --name {shell_quote(s.name)} --file {shell_quote(s.download_path)}\n")
        text.append("\n")
        text.append("Move it into your cloud's secret manager", "bold")
        text.append(" (piped: the key never appears on a command line):")
        self.query_one("#secure", Static).update(text)
        lines = Text()
        for what, command in commands(s.name, v2=s.v2):
            lines.append(f"\n  {what}\n", "bold")
            lines.append(f"    {command}")
        self.query_one("#secure-commands", Static).update(lines)
