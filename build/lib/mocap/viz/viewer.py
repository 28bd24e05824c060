"""Interactive 3D viewer (open3d window): skeletons as solid bones and joints, floor grid, camera
frusta, playback, several motions overlaid in distinct shades.

Keys: space play/pause, right/left arrow step one frame, ``+``/``-`` speed x2 / ÷2, ``L`` loop on/off,
``Q``/Esc quit; mouse: rotate, pan (shift/ctrl), zoom (wheel). The frame and time are shown in the
terminal (and returned). :class:`Playback` holds the state and is usable without a window.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..core.motion import Motion3D
from .render import _o3d, add_scene, update_meshes, zup


@dataclass
class Playback:
    """Playback state over ``n_frames`` at ``fps``: current ``frame``, ``playing``, ``speed``, ``loop``."""

    n_frames: int
    fps: float
    frame: int = 0
    playing: bool = True
    speed: float = 1.0
    loop: bool = True
    _clock: float = 0.0  # seconds of motion time since frame 0

    def toggle(self) -> None:
        self.playing = not self.playing

    def step(self, k: int = 1) -> None:
        """Move ``k`` frames (pauses playback)."""
        self.playing = False
        self._seek(self.frame + k)

    def faster(self) -> None:
        self.speed = min(self.speed * 2, 16.0)

    def slower(self) -> None:
        self.speed = max(self.speed / 2, 1 / 16)

    def _seek(self, f: int) -> None:
        f = f % self.n_frames if self.loop else int(np.clip(f, 0, self.n_frames - 1))
        self.frame = f
        self._clock = f / self.fps

    def advance(self, dt: float) -> bool:
        """Let ``dt`` seconds of wall time pass; True when the frame changed."""
        if not self.playing:
            return False
        self._clock += dt * self.speed
        f = int(self._clock * self.fps)
        if f >= self.n_frames:
            if self.loop:
                self._clock %= self.n_frames / self.fps
                f = int(self._clock * self.fps) % self.n_frames
            else:
                f, self.playing = self.n_frames - 1, False
        changed = f != self.frame
        self.frame = f
        return changed

    @property
    def readout(self) -> str:
        state = "playing" if self.playing else "paused"
        return f"frame {self.frame + 1}/{self.n_frames}  t = {self.frame / self.fps:6.2f} s  x{self.speed:g}  {state}" \
               + ("  loop" if self.loop else "")


def view(motions: list[Motion3D], rig=None, title: str = "mocap", size=(1280, 800), *, visible: bool = True,
         max_updates: int | None = None, log=None) -> Playback:
    """Open the viewer on ``motions`` (and the camera frusta of ``rig``) until the window is closed
    (or after ``max_updates`` animation callbacks: for tests and scripted captures). Returns the
    final playback state."""
    o3d = _o3d()
    motions = zup(motions)
    pb = Playback(max(m.n_frames for m in motions), motions[0].fps)
    vis = o3d.visualization.VisualizerWithKeyCallback()
    vis.create_window(title, size[0], size[1], visible=visible)
    meshes = add_scene(o3d, vis, motions, rig)
    P = np.concatenate([m.positions.reshape(-1, 3) for m in motions])
    opt = vis.get_render_option()
    opt.background_color = np.array([0.12, 0.12, 0.14])
    ctl = vis.get_view_control()
    ctl.set_up([0, 0, 1])
    ctl.set_front([0.4, -1, 0.35])
    ctl.set_lookat(np.nanmedian(P, 0))
    state = {"t": time.perf_counter(), "updates": 0, "shown": -1}

    def draw(v):
        update_meshes(o3d, v, meshes, pb.frame)
        if log and state["shown"] != pb.frame:
            log(pb.readout)
            state["shown"] = pb.frame

    def on_tick(v):
        now = time.perf_counter()
        changed = pb.advance(now - state["t"])
        state["t"] = now
        state["updates"] += 1
        if changed:
            draw(v)
        if max_updates is not None and state["updates"] >= max_updates:
            v.close()
        return changed

    def key(action):
        def cb(v):
            action()
            draw(v)
            return True
        return cb

    for code, action in [(32, pb.toggle), (262, lambda: pb.step(1)), (263, lambda: pb.step(-1)), (61, pb.faster),
                         (43, pb.faster), (45, pb.slower), (76, lambda: setattr(pb, "loop", not pb.loop))]:
        vis.register_key_callback(code, key(action))
    vis.register_animation_callback(on_tick)
    draw(vis)
    vis.run()
    vis.destroy_window()
    return pb
