"""`doctor`: renders the report of tui.services.doctor, as text or JSON."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ExitCode
from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..services.doctor import DoctorReport
    from .context import Context


def cmd_doctor(ctx: Context) -> int:
    from ..services.config import config_path
    from ..services.doctor import diagnose

    args = ctx.args
    override, source = ctx.override()
    report = diagnose(
        config_path=Path(args.config).expanduser() if getattr(args, "config", None) else config_path(),
        db_path=ctx.db_path,
        allow_insecure=bool(getattr(args, "allow_insecure_keyring", False)),
        override=override, override_source=source, adopt=bool(getattr(args, "adopt", False)),
    )
    from ..services.log import debug_requested, log_file

    log = {"path": str(log_file()), "exists": log_file().exists(),
           "debug": debug_requested(bool(getattr(args, "debug", False)))}
    if args.json:
        output.print_json({**report.to_json(), "log_file": log})
    else:
        lines = text(report)
        at = next((i for i, line in enumerate(lines) if line.startswith("versions")), len(lines))
        lines.insert(at, f"log       {log['path']}" + ("" if log["exists"] else " (not written yet)")
                     + "; the dashboard's debug log (--debug or MOMENTO_KEYS_DEBUG=1; commands log to stderr)")
        output.out("\n".join(lines))
    return ExitCode.ERROR if report.problems else ExitCode.OK


def text(report: DoctorReport) -> list[str]:
    """The report as lines for a person: one paragraph per section, then the problems."""
    return [*_keyring(report), *_database(report), *_rest(report), *_problems(report)]


def _keyring(report: DoctorReport) -> list[str]:
    k = report.keyring
    lines = [f"keyring   {k['description']} [{k['health'].upper()}]", f"          backend {k['backend']}"]
    if k["detail"] and not k["secure"]:
        lines.append(f"          {k['detail']}")
    return lines


def _database(report: DoctorReport) -> list[str]:
    db, path = report.database, report.db_path
    lines = [f"database  {path}" + ("" if db["exists"] else " (not created yet)")]
    if db["exists"]:
        lines.append(f"          mode {db.get('mode')}, schema {db.get('schema', '?')} "
                     f"(supported {report.schema_supported}), integrity {db.get('integrity', '?')}, "
                     f"{db.get('records', '?')} records, writable {db.get('writable', '?')}")
    if isinstance(db.get("free_bytes"), int):
        lines.append(f"          {db['free_bytes'] / 2**20:,.0f} MiB free on its disk")
    return lines


def _rest(report: DoctorReport) -> list[str]:
    cfg = report.config_path
    lines = [f"config    {cfg}" + ("" if os.path.exists(cfg) else " (defaults; file not present)")]
    if report.override:
        lines.append(f"momento   calls go to {report.override} (endpoint override, plaintext)")
    secrets = report.secrets
    missing, unstored = secrets["missing_from_keyring"], secrets["metadata_only"]
    lines.append(f"secrets   {report.tracked - len(unstored)} in the keyring, {len(unstored)} metadata only"
                 + (f", {len(missing)} MISSING" if missing else "")
                 + (f", {len(report.orphans)} without a record" if report.orphans else "")
                 + (f", {len(report.rescue_files)} in rescue files" if report.rescue_files else ""))
    lines += [f"          adopted {name!r}: its secret was in the keyring; its record is back"
              for name in report.adopted]
    lines.append("versions  " + ", ".join(f"{k} {v}" for k, v in report.versions.items()))
    return lines


def _problems(report: DoctorReport) -> list[str]:
    if not report.problems:
        return ["", "all good"]
    return ["", f"{len(report.problems)} problem(s):", *(f"  - {p}" for p in report.problems)]
