"""Composition root: the only module that imports everything and wires it together.

``ergobreak run``: one instance per user; the tray on the main thread (macOS
requires it) or no tray (headless); the engine on its own thread owning the core;
adapters, the IPC server and history on their own blocking threads; everything
else only posts to the engine. When the session ends under it (the edge lost the X
display or the session bus) it stops, cleanly, with the one line that says so.
"""

from __future__ import annotations

import hashlib
import logging
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ergobreak import __version__
from ergobreak.commands import Request
from ergobreak.config import layers
from ergobreak.config.layers import Effective, load
from ergobreak.config.loader import MAX_BYTES
from ergobreak.config.sources import fingerprint
from ergobreak.config.switches import turned_off
from ergobreak.config.values import parse_cli_sets
from ergobreak.content.feedback_file import NAME as FEEDBACK_NAME
from ergobreak.content.feedback_file import FeedbackFile
from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.machine import POLL_AWAY, DeskSession, View
from ergobreak.daemon import signals
from ergobreak.daemon.clock import Clock, SystemClock
from ergobreak.daemon.engine import STOPPING, Engine, Reloaded, Reply, describe_changes
from ergobreak.daemon.instance import InstanceError, InstanceLock, ensure_private_dir
from ergobreak.daemon.ipc import ANSWER_WITHIN, Server
from ergobreak.daemon.last_policy import NAME as LAST_POLICY_NAME
from ergobreak.daemon.last_policy import LastPolicy
from ergobreak.daemon.logs import setup_logging, under_journal
from ergobreak.daemon.memory import release as release_memory
from ergobreak.daemon.state import StateFile
from ergobreak.localtz import LocalTimezone
from ergobreak.paths import Paths, paths
from ergobreak.tomlfile import ConfigError, Diagnostic, read_bytes

if TYPE_CHECKING:
    # For types only: the modules are imported where first needed, so the daemon
    # loads only what this run uses (no tray when headless, no history when it is off).
    from datetime import tzinfo

    from ergobreak.coach.coaching import Coaching
    from ergobreak.content.feedback import Turn
    from ergobreak.core.content import Answer, Content, Drill
    from ergobreak.daemon.watch import InotifyWatcher, StatWatcher
    from ergobreak.history.recorder import HistoryRecorder
    from ergobreak.platform.bubbles import Bubbles
    from ergobreak.platform.edge import Edge, Lost
    from ergobreak.tray.backend import Choice as TrayChoice
    from ergobreak.tray.controller import TrayController
    from ergobreak.tray.model import TrayState

log = logging.getLogger("ergobreak")

#: ``--demo``: second-scale timings, so a first run shows a posture check within
#: 20 s and a drill within a minute (only for this process; nothing is saved)
DEMO: dict[str, str | bool] = {
    "activity.idle_pause": "20s",
    "activity.natural_break": "2m",
    "activity.prompt_gap": "10s",
    "posture.every": "20s",
    "drill.every": "45s",
    "drill.start_after_idle": "5s",
    "drill.prelude": "20s",
    "drill.snooze": "30s",
    "schedule.enabled": False,
}
#: how long ``--autostart`` waits for a tray host that appears late at login
AUTOSTART_TRAY_WAIT = 30.0
#: a tray that fails longer than this before the edge reports the session's end
#: failed for a reason of its own (both use the same X server or bus: they hear of
#: its end within milliseconds of each other)
SESSION_END_GRACE = 2.0
#: a drill that starts this soon after a click on ``start`` was started by the click:
#: its coach window may take the keyboard focus
CLICK_STARTS = 5.0
#: config warnings written to the log at start (a file may have thousands)
LOGGED_WARNINGS = 20
#: warnings and policy errors listed in ``status`` and a reload's reply (the rest are
#: counted: a 64 KB file of typos would not fit a reply)
LISTED = 20
#: how often the OS policy channels (registry, managed preferences) are read for a
#: change: Group Policy refreshes every 90 min or so, and nothing signals it
CHANNEL_POLL = 300.0


@dataclass
class RunOptions:
    config: str | None = None
    set: list[str] = field(default_factory=list)
    no_tray: bool = False
    demo: bool = False
    autostart: bool = False
    verbose: bool = False


def _status_entry(diag: Diagnostic) -> dict[str, object]:
    """A diagnostic as ``status`` gives it: ``{file, line, message}`` and the key and hint."""
    return {
        "file": diag.path,
        "line": diag.line,
        "key": diag.key,
        "message": diag.message,
        "hint": diag.hint,
    }


def _first_error(diags: tuple[Diagnostic, ...] | list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.severity == "error"]


class App:
    """Holds the running pieces so shutdown can close them in order."""

    def __init__(self, opts: RunOptions, where: Paths, *, clock: Clock | None = None) -> None:
        self.opts = opts
        self.paths = where
        self.clock: Clock = clock or SystemClock()
        self.tz = LocalTimezone()
        self.effective: Effective | None = None
        self.config_error: str | None = None
        #: ``--set`` values (and ``--demo``'s), TOML values as the config layers take them
        self.cli_values: dict[str, object] = {}
        self.engine: Engine | None = None
        self.tray: TrayController | None = None
        self.edge: Edge | None = None
        self.bubbles: Bubbles | None = None
        self.recorder: HistoryRecorder | None = None
        self.server: Server | None = None
        self.watcher: InotifyWatcher | StatWatcher | None = None
        #: the drill coach window's driver, made at the first drill (none at idle)
        self.coach: Coaching | None = None
        self._clicked_start = -math.inf
        #: set when the session ended under us (see :meth:`on_lost`)
        self.session_ended = threading.Event()
        self._today = ""
        self._today_at = -math.inf
        #: the OS policy channels as last polled (``None``: not yet), and when
        self._channels: tuple[tuple[str, str], ...] | None = None
        self._channels_at = -math.inf
        #: the last policy read without an error, used while the files on disk are broken
        self.last_policy = LastPolicy(None if opts.demo else where.state_dir / LAST_POLICY_NAME)
        #: (file digest, headline) of every warning the user was told of, for the files
        #: as they are now: a warning is told again only when its file changed
        self._told: set[tuple[str, str]] = set()
        #: the policy errors last told (None: the policy on disk was fine)
        self._policy_told: frozenset[str] | None = None
        #: "How was it?": what the answers make of the rotation (kept in the state folder)
        self.feedback = DrillFeedback(None if opts.demo else where.state_dir / FEEDBACK_NAME)

    # ------------------------------------------------------------------ config

    def load_config(self) -> tuple[Effective, list[Diagnostic]]:
        """Effective settings and the user file's errors: the user's file and policy;
        if the file is broken, the defaults and policy; if even that fails (a bug in
        ergobreak), the built-in defaults alone.

        Raises:
            ConfigError: the command line itself (``--set``) is wrong.
        """
        problems: list[Diagnostic] = []
        config = self.paths.config_file
        for user_file, policy in ((config, None), (None, None), (None, [])):
            try:
                if policy is not None:
                    return load(user_file, policy_files=policy, cli=self.cli_values), problems
                return self._load(user_file), problems
            except ConfigError as exc:
                errors = _first_error(exc.diagnostics)
                if any(d.path == "command line" for d in errors):
                    raise
                problems = problems or errors
            except Exception as exc:  # a bug must not keep ergobreak from starting
                problems = problems or [Diagnostic.failed(str(user_file or "policy"), exc)]
        raise ConfigError(problems)

    def _load(self, user_file: Path | None) -> Effective:
        """The settings from ``user_file`` and the policy, fail-closed: while a policy
        file is broken, unsafe or unreadable, the last good policy stays in force (kept
        in memory and in the state folder, so also across restarts).

        Raises:
            ConfigError: the user file or the command line has errors.
        """
        effective = load(user_file, cli=self.cli_values)
        if not effective.policy_errors:
            self.last_policy.keep(effective.policy_texts)
            return effective
        kept = self.last_policy.texts()
        if not kept:  # none was ever read whole, or it was no policy: what can be read applies
            return effective
        previous = load(user_file, cli=self.cli_values, policy_texts=kept)
        return replace(
            previous,
            diagnostics=previous.diagnostics + effective.policy_errors,
            policy_errors=effective.policy_errors,
            policy_current=False,
            policy_sources=effective.policy_sources,  # what is on disk (or in the registry) now
        )

    def attach(
        self,
        edge: Edge,
        state: StateFile | None = None,
        config_errors: Sequence[Diagnostic] = (),
    ) -> Engine:
        """Wire the core and its engine to ``edge`` and to this app's hooks; the engine
        is not running yet. ``config_errors``: the user file's, from :meth:`load_config`.
        Tests drive the result in-process with a fake clock and a fake edge."""
        from ergobreak.platform.bubbles import Bubbles  # noqa: PLC0415

        assert self.effective is not None
        self.edge = edge
        self.bubbles = Bubbles(edge.notifier)
        effective = self.effective

        def fresh() -> DeskSession:
            return DeskSession(
                effective.settings,
                self.feedback.rotation(
                    effective.content or _default_content(), effective.values, self.clock.wall()
                ),
                self.tz,
                away_poll=None if edge.can_wake_on_activity else POLL_AWAY,
            )

        core = fresh()
        saved = state.load() if state is not None else None
        if state is not None and saved is not None:
            try:
                core.restore(saved, self.clock.monotonic(), self.clock.wall())
            except Exception as exc:  # ValueError names the bad field; anything else is a bug
                state.reject(str(exc))
                core = fresh()
        self.engine = Engine(
            core,
            self.clock,
            read_idle=edge.read_idle,
            quiet_changes=edge.quiet_changes,
            on_step=self.on_step,
            on_request=self.on_request,
            reload=self.reload,
            save=state.save if state is not None else None,
            activity_wake=edge.wake_on_activity if edge.can_wake_on_activity else None,
            slept=edge.slept,
            on_failure=self.on_failure,
        )
        self._publish_config()
        self._tell(effective)
        if config_errors:
            self.config_error = config_errors[0].headline()
            self.engine.config_error = self.config_error
            self._notice_config_error(config_errors)
        if state is not None and state.problem is not None:
            self._notice("ergobreak: timers reset", f"{state.problem}; the timers start fresh.")
        return self.engine

    def reload(self) -> Reloaded:
        """Called on the engine thread (``reload`` request, SIGHUP)."""
        assert self.engine is not None
        before = self.engine.core.settings
        try:
            effective = self._load(self.paths.config_file)
        except Exception as exc:  # ConfigError, or a bug: either way keep the previous settings
            errors = (
                _first_error(exc.diagnostics)
                if isinstance(exc, ConfigError)
                else [Diagnostic.failed(str(self.paths.config_file), exc)]
            )
            first = errors[0].headline() if errors else str(exc)
            if self.config_error != first:  # tell the user once per distinct problem
                self._notice_config_error(errors)
            self.config_error = first
            return Reloaded(None, error=first, details=tuple(d.format() for d in errors))
        was_error = self.config_error is not None
        self.effective = effective
        self.config_error = None
        off = turned_off(effective)
        if off is not None:
            # IT turned ergobreak off on this machine while it ran: stop, as at start.
            log.warning("%s; stopping", off.reason())
            self.engine.stop()
        if self.edge is not None:
            self.edge.set_calls(bool(effective.values.get("quiet.calls", True)))
        changes = describe_changes(before, effective.settings)
        if changes != "no changes" or was_error:
            self._notice(
                "ergobreak",
                f"Settings updated: {changes}" if changes != "no changes" else "Settings fixed.",
            )
        log.info("settings reloaded: %s", changes)
        self._publish_config()
        self._tell(effective)
        release_memory()
        content = effective.content
        if content is not None:  # with the user's "How was it?" answers
            content = self.feedback.rotation(content, effective.values, self.clock.wall())
        return Reloaded(
            effective.settings,
            content,
            warnings=tuple(
                d.headline()
                for d in (*effective.policy_errors, *self._warnings(effective))[:LISTED]
            ),
            policy_current=effective.policy_current,
        )

    def on_failure(self, detail: str) -> None:
        """Engine thread: something inside ergobreak failed (the engine logged it)."""
        log_file = "the journal" if under_journal() else self.paths.log_dir / "ergobreak.log"
        self._notice(
            "ergobreak: internal error",
            f"Something went wrong inside ergobreak ({detail}); it carries on."
            f" Details are in {log_file}.",
        )

    def _notice(self, title: str, body: str) -> None:
        """A one-off message in the notice bubble (settings changed, a problem met)."""
        if self.bubbles is None:
            return
        from ergobreak.platform.base import Notification  # noqa: PLC0415
        from ergobreak.present import NOTICE_SLOT  # noqa: PLC0415

        self.bubbles.apply(Notification(title=title, body=body, icon="ergobreak", slot=NOTICE_SLOT))

    def _notice_config_error(self, errors: Sequence[Diagnostic]) -> None:
        for diag in errors:
            log.warning("%s", diag.format())
        if self.bubbles is not None and errors:
            from ergobreak.present import config_error  # noqa: PLC0415

            self.bubbles.apply(config_error(errors, str(self.paths.config_file)))

    def _tell(self, effective: Effective) -> None:
        """Warnings and policy problems in the settings now in force: in ``status``
        always; in the log and to the user the first time each is met (a warning again
        only once its file changed)."""
        assert self.engine is not None
        mine = {str(self.paths.config_file), "command line"}
        warnings = self._warnings(effective)
        digests: dict[str, str] = {}
        keys = [(self._digest(d.path, digests), d.headline()) for d in warnings]
        new = [d for d, key in zip(warnings, keys, strict=True) if key not in self._told]
        self._told = set(keys)
        for diag in new[:LOGGED_WARNINGS]:
            log.warning("%s", diag.format())
        if len(new) > LOGGED_WARNINGS:
            more = len(new) - LOGGED_WARNINGS
            log.warning("... and %d more warnings (`ergobreak config check` lists them all)", more)
        told = [d for d in new if d.path in mine]
        if told and self.bubbles is not None:
            from ergobreak.present import config_warnings  # noqa: PLC0415

            self.bubbles.apply(config_warnings(told))

        errors = effective.policy_errors
        problems = frozenset(d.headline() for d in errors)
        if errors and problems != self._policy_told:
            kept = bool(self.last_policy.texts())
            for diag in errors:
                log.error("%s", diag.format())
            log.error(
                "the policy files could not be used as they are: %s",
                "the last good policy stays in force" if kept else "what could be read applies",
            )
            if self.bubbles is not None:
                from ergobreak.present import policy_unread  # noqa: PLC0415

                self.bubbles.apply(policy_unread(errors, kept=kept))
        elif not errors and self._policy_told is not None:
            log.info("the policy files are read whole again")
        self._policy_told = problems if errors else None
        self.engine.status_extra.update(
            {
                "warnings": [_status_entry(d) for d in warnings[:LISTED]],
                "warnings_total": len(warnings),
                "policy_errors": [_status_entry(d) for d in errors[:LISTED]],
                "policy_current": effective.policy_current,
                "policy_sources": {s.name: s.to_json() for s in effective.policy_sources},
            }
        )

    @staticmethod
    def _warnings(effective: Effective) -> list[Diagnostic]:
        """Every warning about the settings in force, the policy's locks and clamps of
        the user's own values among them."""
        return [*effective.warnings, *effective.overrides()]

    @staticmethod
    def _digest(path: str, seen: dict[str, str]) -> str:
        """The SHA-256 of the file at ``path`` as it is now ("" when it cannot be read)."""
        if path not in seen and path == "command line":
            seen[path] = ""
        elif path not in seen:
            raw, _problems = read_bytes(Path(path), max_bytes=MAX_BYTES)
            seen[path] = hashlib.sha256(raw).hexdigest() if raw is not None else ""
        return seen[path]

    def _publish_config(self) -> None:
        if self.engine is None or self.effective is None:
            return
        e = self.effective
        self.engine.status_extra.update(
            {
                "config_source": str(self.paths.config_file)
                if self.paths.config_file.exists()
                else "defaults",
                "policy": ", ".join([*map(str, e.policy_files), *e.policy_channels]) or None,
                "organization": e.organization,
            }
        )

    # ------------------------------------------------------------- effects

    def on_step(self, t: float, wall: float, effects: list[fx.Effect], view: View) -> None:
        if effects and self.bubbles is not None and self.engine is not None:
            from ergobreak.present import present  # noqa: PLC0415

            core = self.engine.core
            idle_known = self.edge is not None and self.edge.idle.name != "none"
            self.bubbles.apply_round(
                [
                    present(e, core.content, core.settings.drill.snooze, idle_known=idle_known)
                    for e in effects
                ]
            )
        if self.coach is not None or any(isinstance(e, fx.DrillStart) for e in effects):
            self._coaching().on_step(effects, view)
        if self.recorder is not None:
            self.recorder.record(wall, effects, view)
        if self.feedback.step(effects, wall) and self.engine is not None:
            self.engine.post(Request("reload"))  # a drill left out after "It hurt" is back
        if self.watcher is not None and self.engine is not None:
            changed = getattr(self.watcher, "changed", None)  # the stat fallback
            if changed is not None and changed():
                self.engine.post(Request("reload"))
        if self.engine is not None and t - self._channels_at >= CHANNEL_POLL:
            self._channels_at = t
            seen = fingerprint(layers.os_policy_sources())
            if self._channels is not None and seen != self._channels:
                self.engine.post(Request("reload"))
            self._channels = seen
        if self.tray is not None and not self.session_ended.is_set():
            try:
                self.tray.show(self._tray_state(view, t, wall, effects))
            except Exception:
                if not self.session_ends():  # else the tray went with its X server or bus
                    raise
        for effect in effects:
            if effect.event != "state":  # never log break timelines above DEBUG
                log.debug("%s %s", effect.event, effect.fields())

    def _coaching(self) -> Coaching:
        if self.coach is None:
            from ergobreak.coach.coaching import Coaching  # noqa: PLC0415 - at the first drill

            def clicked() -> bool:
                return self.clock.monotonic() - self._clicked_start < CLICK_STARTS

            self.coach = Coaching(
                self.handle_ipc, lambda: self.effective.values if self.effective else {}, clicked
            )
        return self.coach

    def clicked(self, request: Request) -> None:
        """A request from a click (tray menu, notification button): a drill it starts
        may take the keyboard focus for its window."""
        if request.cmd == "start":
            self._clicked_start = self.clock.monotonic()

    def click(self, request: Request) -> None:
        """A tray menu click: noted, then posted."""
        self.clicked(request)
        if self.engine is not None:
            self.engine.post(request)

    def _tray_state(self, view: View, t: float, wall: float, effects: list[fx.Effect]) -> TrayState:
        from ergobreak.tray.model import TrayState  # noqa: PLC0415

        refresh = any(
            isinstance(e, (fx.DrillEnd, fx.PostureCheck, fx.NaturalBreak, fx.DrillPrompt))
            for e in effects
        )
        if self.recorder is not None and (refresh or t - self._today_at > 600):
            self._today = self.recorder.today(timeout=0.5) or self._today
            self._today_at = t
        e = self.effective
        s = self.engine.core.settings if self.engine is not None else None
        return TrayState(
            view=view,
            wall=wall,
            tz=self.tz,
            snooze=s.drill.snooze if s is not None else None,
            hours=s.schedule.hours if s is not None and s.schedule.enabled else (),
            today=self._today,
            config_error=self.config_error,
            managed_by=(e.organization or "") if e is not None and e.managed else None,
            version=__version__,
        )

    def on_request(self, request: Request) -> dict[str, Any] | None:
        """App commands that are not the scheduler's (engine thread)."""
        from ergobreak import opener  # noqa: PLC0415

        if request.cmd == "open_config":
            return opener.open_config(self.paths.config_file)
        if request.cmd == "open_report":
            settings = self.engine.core.settings if self.engine is not None else None
            return opener.open_report(self.paths.state_dir, settings)
        if request.cmd == "open_safety":
            return opener.open_safety(self.paths.state_dir)
        if request.cmd == "feedback" and self.effective is not None:
            reply, changed = self.feedback.answer(
                request, self.clock.wall(), self.tz, self.effective.values, self.recorder
            )
            if changed and self.engine is not None:
                self.engine.post(Request("reload"))  # the core takes the new rotation
            return reply
        if request.cmd == "notify_test" and self.bubbles is not None:
            from ergobreak.platform.base import Notification  # noqa: PLC0415

            self.bubbles.apply(Notification(title="ergobreak", body="Notifications work."))
            return {"ok": True}
        return {"ok": False, "error": f"{request.cmd} is not available"}

    def session_ends(self) -> bool:
        """Whether the session is ending: asked when the tray failed, which it does
        when the X server or bus under it went away, just before the edge says so."""
        return self.session_ended.wait(SESSION_END_GRACE)

    def on_lost(self, loss: Lost) -> None:
        """A connection of the edge went away (any thread; the edge has said so): when
        that is the session's end, ergobreak ends with it."""
        if loss.ends_session:
            self.session_ended.set()
            if self.engine is not None:
                self.engine.stop()

    def handle_ipc(self, request: Request) -> dict[str, Any]:
        """A control connection's thread: the engine's answer within ``ANSWER_WITHIN``,
        else the last published status (marked stale) or "busy"."""
        assert self.engine is not None
        if self.engine.stopping:  # it will not answer again
            return {"ok": False, "error": STOPPING}
        # Everything, status included, goes through the engine: it may be asleep for
        # a long pause, and only it can say what is true right now.
        reply = Reply()
        self.engine.post(request, reply)
        if reply.done.wait(ANSWER_WITHIN):
            return reply.value
        if request.cmd == "status" and self.engine.status:
            return {"ok": True, "status": {**self.engine.status, "stale": True}}
        return {"ok": False, "error": "ergobreak is busy; try again"}


class DrillFeedback:
    """ "How was it?" after a drill (issue 18): the answers, kept in a file of their own
    (so also with history off), what they make of the rotation the settings chose
    (:mod:`ergobreak.content.feedback`), and the ``feedback`` command. Engine thread."""

    def __init__(self, path: Path | None) -> None:
        self.file = FeedbackFile(path)
        #: the last drill that ended, done or skipped, in this run
        self.last_drill: str | None = None
        #: the rotation as the settings chose it, before the answers
        self.chosen: Content | None = None
        #: when a drill left out comes back (the rotation is rebuilt then)
        self.until: float | None = None

    def rotation(self, content: Content, values: Mapping[str, Any], wall: float) -> Content:
        """``content`` with the answers applied at ``wall``."""
        from ergobreak.core.content import Content  # noqa: PLC0415

        self.chosen = content
        turn = self._turn(content, values, wall)
        self.until = turn.next_change
        if turn.kept is not None:
            log.warning("every drill in the rotation hurt lately; %s stays in", turn.kept)
        if turn.drills == content.drills:
            return content
        return Content(
            cues=content.cues, drills=turn.drills, library=content.library, eye_cue=content.eye_cue
        )

    def step(self, effects: Sequence[fx.Effect], wall: float) -> bool:
        """After a round: note the drill that ended; True when the rotation is due again."""
        for effect in effects:
            if isinstance(effect, fx.DrillEnd) and effect.outcome in ("done", "skipped"):
                self.last_drill = effect.drill.id
        if self.until is not None and wall >= self.until:
            self.until = None
            return True
        return False

    def answer(
        self,
        request: Request,
        wall: float,
        tz: tzinfo,
        values: Mapping[str, Any],
        recorder: HistoryRecorder | None,
    ) -> tuple[dict[str, Any], bool]:
        """The ``feedback`` command: its reply, and whether the rotation changed."""
        from ergobreak.commands import BadRequest, feedback_args  # noqa: PLC0415
        from ergobreak.content.feedback import reply_text  # noqa: PLC0415
        from ergobreak.content.library import safety_text  # noqa: PLC0415

        try:
            ident, said = feedback_args(request)
        except BadRequest as exc:
            return {"ok": False, "error": str(exc)}, False
        ident = ident or self.last_drill
        if ident is None:
            error = (
                "No drill has ended since ergobreak started, so there is nothing to answer"
                " about; name the drill with --drill ID (see: ergobreak routines list)."
            )
            return {"ok": False, "error": error}, False
        content = self.chosen
        drill = content.drill(ident) if content is not None else None
        if content is None or drill is None:
            return {
                "ok": False,
                "error": f'No drill "{ident}" (see: ergobreak routines list).',
            }, False
        answer = cast("Answer", said)  # feedback_args checked it is one of the answers
        before = self._turn(content, values, wall).drills
        answers = self.file.answers().said(drill.id, answer, wall)
        saved = self.file.keep(answers, wall)
        if recorder is not None:
            recorder.feedback(wall, drill.id, answer)
        turn = self._turn(content, values, wall)
        text = reply_text(
            drill,
            answer,
            turn,
            answers=answers,
            at=wall,
            tz=tz,
            find=content.drill,
            allowed=self._allowed(values),
        )
        if not saved:
            text += " (It could not be saved, so it counts until ergobreak stops: see its log.)"
        reply = {"ok": True, "drill": drill.id, "answer": answer, "text": text}
        if answer == "hurt":
            reply["stop_rules"] = safety_text()["stop_rules"]
        return reply, turn.drills != before

    def _turn(self, content: Content, values: Mapping[str, Any], wall: float) -> Turn:
        from ergobreak.content.feedback import apply_answers  # noqa: PLC0415

        return apply_answers(
            content.drills,
            self.file.answers(),
            wall,
            find=content.drill,
            allowed=self._allowed(values),
        )

    @staticmethod
    def _allowed(values: Mapping[str, Any]) -> Callable[[Drill], bool]:
        """Whether the drill-level ``[routines]`` filters let a drill in."""
        from ergobreak.config.schema import to_filters  # noqa: PLC0415
        from ergobreak.content.selection import filtered_out  # noqa: PLC0415

        filters = to_filters(values)
        return lambda drill: not filtered_out(drill, filters)


def run(opts: RunOptions) -> int:
    where = paths(opts.config)
    setup_logging(where.log_dir, verbose=opts.verbose)
    try:
        runtime = ensure_private_dir(where.runtime_dir)
        lock = InstanceLock(runtime)
        lock.acquire()
    except (InstanceError, OSError) as exc:
        said = str(exc)  # "ergobreak is already running (pid 123)" needs no second prefix
        print(said if said.startswith("ergobreak ") else f"ergobreak: {said}", file=sys.stderr)
        return 1
    app = App(opts, where)
    try:
        return _run(app, runtime)
    finally:
        lock.release()


def _run(app: App, runtime: Path) -> int:
    opts = app.opts
    started = time.monotonic()
    raw, problems = parse_cli_sets(opts.set)
    if problems:
        for diag in problems:
            print(diag.format(), file=sys.stderr)
        return 2
    app.cli_values = {**(DEMO if opts.demo else {}), **raw}
    try:
        effective, config_errors = app.load_config()
    except ConfigError as exc:
        for diag in exc.diagnostics:
            print(diag.format(), file=sys.stderr)
        return 2
    off = turned_off(effective)
    if off is not None:  # a policy kept from the last good one may say so (cli/run.py)
        print(off.reason(), file=sys.stderr)
        return 0
    app.effective = effective

    from ergobreak.platform.select import open_edge  # noqa: PLC0415

    # Adapters may report before the engine exists (a lock signal during start-up).
    posted: list[ev.Observation | Request | None] = []

    def post(item: ev.Observation | Request | None) -> None:
        if isinstance(item, Request):  # a notification button
            app.clicked(item)
        if app.engine is not None:
            app.engine.post(item)
        else:
            posted.append(item)

    calls = bool(effective.values.get("quiet.calls", True))
    edge = open_edge(on_request=post, on_change=lambda: post(None), calls=calls)
    for choice in edge.choices:
        verdict = "" if choice.ok else " unavailable"
        log.info("%s: %s%s (%s)", choice.role, choice.name, verdict, choice.detail)

    state = None if opts.demo else StateFile(app.paths.state_dir / "state.json")
    engine = app.attach(edge, state, config_errors)
    if not opts.demo and effective.values.get("history.enabled", True):
        app.recorder = _open_history(app, effective)
    for item in posted:
        engine.post(item)
    edge.start(engine.post, on_lost=app.on_lost)

    app.server = Server(runtime, app.handle_ipc)
    app.server.start()
    app.watcher = _watch_config(app, engine)

    tray_choice = _choose_tray(opts)
    backends: dict[str, str] = {}
    for choice in edge.choices:
        if choice.ok:
            backends[choice.role] = ", ".join(
                filter(None, [backends.get(choice.role), choice.name])
            )
    backends["tray"] = tray_choice.backend if tray_choice else "none"
    engine.status_extra["backends"] = backends
    engine.status_extra["idle_source"] = edge.idle.name
    _install_signals(engine)

    if opts.demo:
        if getattr(edge.idle, "name", "none") == "none":
            how = "no keyboard idle reading here, so start it with `ergobreak start`"
        else:
            how = "stop typing for 5 s to start it"
        print(
            f"ergobreak demo: a posture check in 20 s, a 2-minute drill offered at 45 s ({how})."
            " `ergobreak status` shows what comes next; Ctrl-C quits.",
            file=sys.stderr,
        )
    try:
        if tray_choice is None:
            log.info("running without a tray icon; control it with `ergobreak status|pause|...`")
            _later(5.0, release_memory)
            engine.run()
        else:
            _run_with_tray(app, tray_choice, started)
    finally:
        _shutdown(app)
    return 0


def _watch_config(app: App, engine: Engine) -> InotifyWatcher | StatWatcher | None:
    from ergobreak.daemon.watch import watch_config  # noqa: PLC0415

    where = app.paths
    files = [where.config_file, where.policy_file, where.policy_d / "*.toml"]
    try:
        watcher = watch_config(files, lambda: engine.post(Request("reload")))
        watcher.start()
    except OSError as exc:
        log.warning("config changes will need `ergobreak reload`: %s", exc)
        return None
    log.info("watching config files (%s)", watcher.name)
    return watcher


def _later(seconds: float, fn: Callable[[], object]) -> None:
    """Run ``fn`` once after ``seconds`` on a daemon thread (never delays quitting)."""
    timer = threading.Timer(seconds, fn)
    timer.daemon = True
    timer.start()


def _default_content() -> Content:
    from ergobreak.content import default_content  # noqa: PLC0415

    return default_content()


def _open_history(app: App, effective: Effective) -> HistoryRecorder | None:
    from ergobreak.history.recorder import HistoryRecorder  # noqa: PLC0415

    def on_message(kind: str, text: str) -> None:
        log.info("history: %s", text)
        if kind == "first_run" and not effective.values.get("history.first_run_notice", True):
            return  # switched off (by IT's policy or the user): logged only
        if app.bubbles is not None and kind in ("first_run", "recovered", "unavailable"):
            from ergobreak.platform.base import Notification  # noqa: PLC0415

            app.bubbles.apply(Notification(title="ergobreak history", body=text[:240]))

    try:
        return HistoryRecorder(
            tz=app.tz,
            keep_days=int(effective.values.get("history.keep_days", 90)),
            break_gap=effective.settings.activity.natural_break,
            on_message=on_message,
        )
    except Exception:
        log.exception("history is off for this run")
        return None


def _choose_tray(opts: RunOptions) -> TrayChoice | None:
    if opts.no_tray:
        return None
    from ergobreak.tray.backend import choose_backend  # noqa: PLC0415

    try:
        choice = choose_backend(wait_for_watcher=AUTOSTART_TRAY_WAIT if opts.autostart else 0.0)
    except Exception as exc:
        log.warning("no tray: %s", exc)
        return None
    log.info("tray: %s (%s)", choice.backend, choice.reason)
    if choice.backend == "none":
        print(f"ergobreak: {choice.reason}; running without a tray icon", file=sys.stderr)
        return None
    return choice


def _run_with_tray(app: App, choice: TrayChoice, started: float) -> None:
    from ergobreak.tray.controller import TrayController  # noqa: PLC0415

    engine = app.engine
    assert engine is not None
    try:
        app.tray = TrayController(on_request=app.click, choice=choice)
    except Exception as exc:
        log.warning("tray failed to start (%s); running without a tray icon", exc)
        engine.run()
        return
    engine_thread = threading.Thread(target=_engine_then_stop_tray, args=(app,), name="engine")

    def setup() -> None:
        log.info("tray up %.0f ms after start", (time.monotonic() - started) * 1000)
        engine_thread.start()
        # Once the icon and the first notifications are drawn, hand back the
        # memory that start-up needed only briefly.
        _later(5.0, release_memory)

    try:
        app.tray.run(setup=setup)
    except Exception:
        app.tray = None
        if not app.session_ends():
            # The tray's own failure: the icon is gone, the scheduler goes on.
            log.exception("the tray icon stopped; ergobreak goes on without it")
            if not engine_thread.is_alive():
                engine.run()
                return
        # else the session ended and the tray with it: the edge said so; we stop
    else:
        engine.stop()  # the tray was closed: quit
    if engine_thread.is_alive():
        engine_thread.join()


def _engine_then_stop_tray(app: App) -> None:
    assert app.engine is not None
    try:
        app.engine.run()
    finally:
        tray = app.tray
        if tray is not None:
            try:
                tray.stop()
            except Exception:
                if not app.session_ended.is_set():  # else its display or bus is gone
                    log.exception("stopping the tray icon failed")


def _install_signals(engine: Engine) -> None:
    actions: dict[int, Callable[[], None]] = {
        signal.SIGTERM: engine.stop,
        signal.SIGINT: engine.stop,
    }
    if hasattr(signal, "SIGHUP"):
        actions[signal.SIGHUP] = lambda: engine.post(Request("reload"))
    signals.install(actions)


def _shutdown(app: App) -> None:
    for name, part, method in (
        ("ipc", app.server, "close"),
        ("config watcher", app.watcher, "stop"),
        ("notifications", app.bubbles, "clear"),
        ("coach window", app.coach, "stop"),
        ("desktop adapters", app.edge, "close"),
        ("history", app.recorder, "close"),
    ):
        if part is None:
            continue
        try:
            getattr(part, method)()
        except Exception:
            log.exception("closing %s failed", name)
    log.info("ergobreak stopped")
