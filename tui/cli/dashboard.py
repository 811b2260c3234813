"""No command: the dashboard (Textual is imported here, and only here)."""

from __future__ import annotations

from ..errors import ExitCode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .context import Context


def cmd_dashboard(ctx: Context) -> int:
    from ..factory import build_app, build_demo_app

    args = ctx.args
    override = getattr(args, "endpoint_override", None)

    def api_factory():
        # Imported only when the dashboard first talks to Momento.
        from ..services.momento import MomentoApi

        return MomentoApi(override=override) if override else MomentoApi.from_env()

    if args.demo:
        app = build_demo_app(api_factory=api_factory)
    else:
        app = build_app(ctx.keeper, readonly=args.readonly, api_factory=api_factory)
    app.run()
    return app.return_code or ExitCode.OK
