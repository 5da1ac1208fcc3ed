"""The coach window: what the core decided, drawn; the user's buttons, sent back.

The core is the authority of time. Between two ``show`` messages the window counts
down only from what it was told (frozen while held) and never moves to another step
itself; its buttons and keys become command requests (``send``), each press once.
It redraws at ~15 fps only while a motion shows and the drill runs; otherwise once a
second, when the seconds shown change.
"""

from __future__ import annotations

import functools
import logging
import math
import sys
import time
import tkinter as tk
from collections.abc import Callable
from tkinter import font as tkfont

from ergobreak.artwork.figure import Look, known, period, scene
from ergobreak.artwork.shapes import Arc, Rect, Shape
from ergobreak.coach import canvas
from ergobreak.coach.protocol import Close, End, Message, Open, Show, Told
from ergobreak.commands import Request
from ergobreak.core.content import ANSWERS
from ergobreak.core.duration import format_clock

log = logging.getLogger("ergobreak.coach")

WIDTH, HEIGHT, FIGURE_HEIGHT = 360, 520, 240
FIGURE = 220  # the figure's box, in pixels
RING_R, RING_WIDTH = 34.0, 8.0
FPS = 15
#: after the end, the window closes by itself when left alone this long
IDLE_CLOSE_MS = 60_000
SIDES = {"left": "Left leg", "right": "Right leg"}
ANSWER_WORDS = {"easy": "Easy", "right": "Right", "hard": "Hard", "hurt": "It hurt"}
KEYS = {"space": "pause", "Right": "next", "Escape": "stop"}


class Coach:
    """One drill's window on ``root``; ``send`` carries requests to the daemon."""

    def __init__(
        self,
        root: tk.Tk,
        send: Callable[[Request], None],
        clock: Callable[[], float] = time.monotonic,
        on_first_frame: Callable[[], None] | None = None,
    ) -> None:
        self.root = root
        self.send = send
        self.clock = clock
        self.on_first_frame = on_first_frame
        self.opened: Open | None = None
        self.show: Show | None = None
        self.shown_at = 0.0
        self.ended = False
        self.look = Look.standard()
        self._tick: str | None = None
        self._close_timer: str | None = None
        self._released: dict[str, int] = {}
        root.withdraw()  # mapped once open says how (focus or not)
        root.resizable(False, False)
        # closing the window only closes it: the drill goes on in its notifications
        root.protocol("WM_DELETE_WINDOW", self.close)

    # ----------------------------------------------------------------- messages

    def handle(self, message: Message) -> None:
        match message:
            case Open():
                self._build(message)
            case Show() if self.opened is not None and not self.ended:
                self.show, self.shown_at = message, self.clock()
                held = ", held" if message.held else ""
                left = format_clock(message.step_left, left=True)
                log.info("shows step %d of %d (%s left%s)", message.step, message.steps, left, held)
                self._redraw()
                if self.on_first_frame is not None:
                    self.root.update_idletasks()
                    self.on_first_frame()
                    self.on_first_frame = None
            case End():
                self._end(message)
            case Told() if self.ended and self.opened is not None:
                log.info("told: %s", message.text)
                self.text.configure(text=f"{self.text.cget('text')}\n\n{message.text}")
            case Close():
                self.close()
            case _:
                log.info("ignored %s before open or after the end", type(message).__name__)

    # -------------------------------------------------------------------- build

    def _build(self, opened: Open) -> None:
        self.opened = opened
        self.look = Look.high_contrast() if opened.high_contrast else Look.standard()
        bg, fg = (
            canvas.colour(self.look.background, self.look.background),
            canvas.colour(self.look.body, self.look.background),
        )
        root = self.root
        root.title(f"{opened.title} — ergobreak")
        root.tk_setPalette(background=bg, foreground=fg)
        root.attributes("-topmost", True)
        scale = opened.text_size / 100
        # larger text, a larger window (within the screen); the figure keeps its size
        self.width = min(round(WIDTH * max(1.0, scale)), root.winfo_screenwidth() - 32)
        self.height = min(round(HEIGHT * max(1.0, scale)), root.winfo_screenheight() - 80)
        wrap = self.width - 20
        base = tkfont.nametofont("TkDefaultFont").actual()["family"]
        self.font = tkfont.Font(family=base, size=round(11 * scale))
        # the seconds fit inside the ring
        self.ring_font = tkfont.Font(family=base, size=round(11 * min(scale, 1.2)))
        bold = tkfont.Font(family=base, size=round(13 * scale), weight="bold")
        tk.Label(root, text=opened.title, font=bold, wraplength=wrap).pack(padx=10, pady=2)
        self.where = tk.Label(root, font=self.font)
        self.where.pack(padx=10, pady=2)
        self.figure = tk.Canvas(root, width=WIDTH, height=FIGURE_HEIGHT, highlightthickness=0)
        self.figure.pack()
        self.bar = tk.Canvas(root, width=self.width - 20, height=8, highlightthickness=0)
        self.bar.pack(pady=4)
        # the buttons are packed before the text, so a long text never pushes them out
        self.buttons = tk.Frame(root)
        self.buttons.pack(side="bottom", pady=8)
        self.text = tk.Label(root, font=self.font, wraplength=wrap, justify="left", anchor="nw")
        self.text.pack(fill="both", expand=True, padx=10, pady=2)
        self.pause_button = self._button(self.buttons, "Pause", self.pause)
        self._button(self.buttons, "Next", self.next)
        self._button(self.buttons, "Stop", self.stop)
        for key in KEYS:
            root.bind(f"<KeyPress-{key}>", self._key)
            root.bind(f"<KeyRelease-{key}>", self._key_up)
        self._map(opened.focus)

    def _button(self, parent: tk.Misc, label: str, action: Callable[[], None]) -> tk.Button:
        # takefocus=0: a focused button would also act on Space, so one press twice
        button = tk.Button(parent, text=label, command=action, takefocus=0, font=self.font)
        button.pack(side="left", padx=4)
        return button

    def _map(self, focus: bool) -> None:
        root = self.root
        root.update_idletasks()  # Tk makes the wrapper the WM manages (no_focus_on_map)
        width, height = self.width, self.height
        x = root.winfo_screenwidth() - width - 16
        y = root.winfo_screenheight() - height - 56  # above a bottom panel
        root.geometry(f"{width}x{height}+{max(0, x)}+{max(0, y)}")
        if not focus:
            no_focus_on_map(root)
        root.deiconify()
        if focus:
            root.lift()
            root.focus_force()

    # ------------------------------------------------------------------ drawing

    def _left(self) -> tuple[float, float]:
        """Seconds left in the step and in the drill, counted from the last ``show``."""
        assert self.show is not None
        gone = 0.0 if self.show.held else max(0.0, self.clock() - self.shown_at)
        return max(0.0, self.show.step_left - gone), max(0.0, self.show.drill_left - gone)

    def _moving(self) -> bool:
        assert self.opened is not None
        assert self.show is not None
        pose = self._step_pose()
        return (
            pose is not None
            and period(pose) > 0
            and not self.show.held
            and not self.opened.reduced_motion
            and not self.ended
        )

    def _step_pose(self) -> str | None:
        assert self.opened is not None
        assert self.show is not None
        if not 1 <= self.show.step <= len(self.opened.steps):
            return None
        pose = self.opened.steps[self.show.step - 1].pose
        return pose if pose is not None and known(pose) else None

    def _redraw(self) -> None:
        opened, show = self.opened, self.show
        assert opened is not None
        assert show is not None
        if show.step == 0:
            self.where.configure(text="Read first")
            self.text.configure(text=opened.safety)
        else:
            step = opened.steps[min(show.step, len(opened.steps)) - 1]
            side = f" · {SIDES[step.side]}" if step.side else ""
            self.where.configure(text=f"Step {show.step} of {show.steps}{side}")
            self.text.configure(text=step.text)
        self.pause_button.configure(text="Resume" if show.held else "Pause")
        self._frame()

    def _frame(self) -> None:
        """Draw the figure, ring and bar for now; schedule the next frame."""
        assert self.opened is not None
        assert self.show is not None
        show, look, bg = self.show, self.look, self.look.background
        step_left, drill_left = self._left()
        shapes: list[Shape] = []
        pose = self._step_pose()
        if pose is not None:
            into = show.step_length - step_left
            step = self.opened.steps[show.step - 1]
            shapes += scene(
                pose, into, side=step.side, size=FIGURE, look=look, still=not self._moving()
            )
        canvas.draw(self.figure, shapes, bg, "figure", dx=(WIDTH - FIGURE) / 2 - 40, dy=10)
        canvas.draw(self.figure, self._ring(step_left), bg, "ring")
        self.figure.delete("seconds")
        cx, cy = WIDTH - RING_R - 16, RING_R + 16
        seconds = format_clock(step_left, left=True)
        fg = canvas.colour(look.body, bg)
        self.figure.create_text(
            cx, cy, text=seconds, font=self.ring_font, fill=fg, tags=("seconds",)
        )
        done = 1 - drill_left / show.drill_length if show.drill_length > 0 else 1.0
        bar_width = self.width - 20
        bar = [Rect(0, 0, bar_width, 8, look.far), Rect(0, 0, bar_width * done, 8, look.accent)]
        canvas.draw(self.bar, bar, bg, "bar")
        self._schedule(step_left)

    def _ring(self, step_left: float) -> list[Shape]:
        assert self.show is not None
        cx, cy = WIDTH - RING_R - 16, RING_R + 16
        share = step_left / self.show.step_length if self.show.step_length > 0 else 0.0
        ring: list[Shape] = [Arc(cx, cy, RING_R, RING_WIDTH, 0, 360, self.look.far)]
        if share > 0:
            ring.append(Arc(cx, cy, RING_R, RING_WIDTH, 0, 360 * min(1.0, share), self.look.accent))
        return ring

    def _schedule(self, step_left: float) -> None:
        if self._tick is not None:
            self.root.after_cancel(self._tick)
            self._tick = None
        if self.ended or self.show is None or (self.show.held and not self._moving()):
            return  # frozen until the next message
        if self._moving():
            delay = 1000 // FPS
        elif step_left <= 0:
            return  # the core's next show moves on
        else:  # when the seconds shown change
            delay = int((step_left - math.floor(step_left)) * 1000) + 5 or 1000
        self._tick = self.root.after(delay, self._frame)

    # ------------------------------------------------------------------ actions

    def _key(self, event: tk.Event[tk.Misc]) -> None:
        # X repeats a held key as release+press pairs of one timestamp: act on the first
        if self._released.get(event.keysym) == event.time:
            return
        action = KEYS.get(event.keysym)
        if action is not None and not self.ended:
            getattr(self, action)()

    def _key_up(self, event: tk.Event[tk.Misc]) -> None:
        self._released[event.keysym] = int(event.time)

    def pause(self) -> None:
        if self.show is not None and not self.ended:
            self.send(Request("drill_resume" if self.show.held else "drill_pause"))

    def next(self) -> None:
        if not self.ended:
            self.send(Request("next_step"))

    def stop(self) -> None:
        if not self.ended:
            self.send(Request("skip"))

    # --------------------------------------------------------------------- end

    def _end(self, end: End) -> None:
        self.ended = True
        if end.outcome != "done" or self.opened is None:
            self.close()
            return
        if self._tick is not None:
            self.root.after_cancel(self._tick)
        self.figure.pack_forget()  # room for the question, the stop rules and the reply
        canvas.draw(
            self.bar,
            [Rect(0, 0, self.width - 20, 8, self.look.accent)],
            self.look.background,
            "bar",
        )
        self.buttons.destroy()
        self.where.configure(text="Done")
        self.text.configure(text="How was it?")
        done = tk.Frame(self.root)
        done.pack(side="bottom", pady=8, before=self.text)
        self._button(done, "Done", self.close)
        self.answers = tk.Frame(self.root)
        self.answers.pack(side="bottom", pady=4, before=self.text)
        for answer in ANSWERS:
            self._button(self.answers, ANSWER_WORDS[answer], functools.partial(self.answer, answer))
        self._idle_close()

    def answer(self, answer: str) -> None:
        assert self.opened is not None
        self.send(Request("feedback", {"drill": self.opened.drill, "answer": answer}))
        if answer != "hurt":
            self.close()
            return
        self.answers.destroy()
        self.text.configure(text=self.opened.stop_rules)
        self._idle_close()

    def _idle_close(self) -> None:
        if self._close_timer is not None:
            self.root.after_cancel(self._close_timer)
        self._close_timer = self.root.after(IDLE_CLOSE_MS, self.close)

    def close(self) -> None:
        self.root.destroy()


def no_focus_on_map(root: tk.Tk) -> None:
    """Ask the window manager not to focus the window when it maps: EWMH's
    _NET_WM_USER_TIME = 0 on the WM's wrapper window (X11; elsewhere nothing to do)."""
    if root.tk.call("tk", "windowingsystem") != "x11":
        return
    try:
        from Xlib import X, Xatom  # noqa: PLC0415 - X11 only
        from Xlib import display as xdisplay  # noqa: PLC0415

        conn = xdisplay.Display()
        try:
            # Tk's toplevel sits in a wrapper window of its own: the client the WM sees
            inner = conn.create_resource_object("window", root.winfo_id())
            tree = inner.query_tree()
            if tree.parent == tree.root:
                raise RuntimeError("Tk has no wrapper window yet")
            window = tree.parent
            atom = conn.intern_atom("_NET_WM_USER_TIME")
            window.change_property(atom, Xatom.CARDINAL, 32, [0], X.PropModeReplace)
            conn.sync()
        finally:
            conn.close()
    except Exception as exc:  # no Xlib, or the display refused: the WM may focus it
        print(f"ergobreak coach: cannot ask not to take focus: {exc}", file=sys.stderr)
