"""No command: the dashboard (Textual is imported here, and only here)."""

from __future__ import annotations

from ..errors import ExitCode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .context import Context


def cmd_dashboard(ctx: Context) -> int:
    from ..factory import build_app, build_demo_app
    from ..services.config import UiState, ui_state_path

    args = ctx.args
    override = getattr(args, "endpoint_override", None)
    in_effect, _source = ctx.override()  # the option, else the environment: the header shows it
    if getattr(args, "debug", False):  # set by tui.cli._debug for --debug or MOMENTO_KEYS_DEBUG
        from ..services import log

        # The dashboard owns the terminal: its log goes to a file (0600), which doctor names.
        from . import output

        try:
            path = log.configure(path=log.log_file())
        except OSError as exc:
            output.warning(f"no debug log: {log.log_file()} cannot be written ({exc.strerror or exc})")
        else:
            log.get("cli").debug("the dashboard starts")
            output.note(f"debug log: {path}")

    def api_factory():
        # Imported only when the dashboard first talks to Momento.
        from ..services.momento import MomentoApi

        return MomentoApi(override=override) if override else MomentoApi.from_env()

    # The settings apply to the demo too (thresholds, bindings, theme); it reads the theme
    # picked last but writes nothing: its keys, keyring and state stay in memory.
    state = UiState(ui_state_path(), readonly=bool(args.readonly or args.demo))
    if args.demo:
        app = build_demo_app(api_factory=api_factory, settings=ctx.settings, ui_state=state,
                             endpoint_override=in_effect)
    else:
        app = build_app(ctx.keeper, readonly=args.readonly, api_factory=api_factory, ui_state=state,
                        endpoint_override=in_effect)
    app.run()
    return app.return_code or ExitCode.OK
