"""Offscreen rendering on the CPU (``MUJOCO_GL=egl``): the RGB-D head camera and report videos.

Shadows, reflections and multisampling are off: they cost CPU time and add nothing to perception
or to a report video.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import mujoco
import numpy as np

from laoshan.components.sensors import CameraSpec, depth_noise
from laoshan.port.messages import RgbdFrame


class RenderError(RuntimeError):
    """Offscreen rendering is not available in this process."""


def _plain_renderer(model: mujoco.MjModel, width: int, height: int) -> mujoco.Renderer:
    try:
        renderer = mujoco.Renderer(model, height=height, width=width)
    except mujoco.FatalError as exc:
        raise RenderError(
            f"offscreen rendering failed ({exc}). MuJoCo picks its OpenGL backend when it is first "
            f"imported (MUJOCO_GL={os.environ.get('MUJOCO_GL', '')!r} now): import laoshan before "
            "mujoco, or export MUJOCO_GL=egl; EGL needs Mesa (Debian: libegl1 libgl1-mesa-dri)."
        ) from None
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
    return renderer


class RgbdCamera:
    """A robot-mounted RGB-D camera rendered from the MuJoCo camera of the same name."""

    def __init__(self, model: mujoco.MjModel, name: str, spec: CameraSpec, rng: np.random.Generator) -> None:
        self.name = name
        self.spec = spec
        self.rng = rng
        self._renderer = _plain_renderer(model, spec.width_px, spec.height_px)
        fy = (spec.height_px / 2) / math.tan(math.radians(spec.vertical_fov_deg) / 2)
        self._intrinsics = (fy, fy, spec.width_px / 2, spec.height_px / 2)

    def capture(self, data: mujoco.MjData, time_s: float) -> RgbdFrame:
        r = self._renderer
        r.update_scene(data, camera=self.name)
        rgb = r.render().copy()
        r.enable_depth_rendering()
        depth = r.render().copy()
        r.disable_depth_rendering()
        return RgbdFrame(time_s, rgb, depth_noise(self.spec, depth, self.rng), *self._intrinsics)

    def close(self) -> None:
        self._renderer.close()


class VideoRecorder:
    """Writes an MP4 of the scene from a camera that follows the robot's base (or a fixed one)."""

    def __init__(self, model: mujoco.MjModel, path: str | Path, track_body: str | None, fps: int = 30,
                 width: int = 640, height: int = 480, view: tuple[float, float, float] = (3.0, 135.0, -15.0)) -> None:
        """``view``: the camera's distance [m], azimuth and elevation [deg] from the tracked body
        (``track_body`` None: from the world's origin, fixed)."""
        import imageio.v2 as imageio  # imported here: only video runs need ffmpeg

        self.path = Path(path)
        self.period_s = 1.0 / fps
        self._next_s = 0.0
        self._renderer = _plain_renderer(model, width, height)
        self._camera = mujoco.MjvCamera()
        if track_body is None:
            self._camera.type = mujoco.mjtCamera.mjCAMERA_FREE
            self._camera.lookat[:] = 0.0
        else:
            self._camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING
            self._camera.trackbodyid = model.body(track_body).id
        self._camera.distance, self._camera.azimuth, self._camera.elevation = view
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = imageio.get_writer(self.path, fps=fps, codec="libx264", macro_block_size=8)
        self.frames = 0

    def capture(self, data: mujoco.MjData, time_s: float) -> None:
        """Render a frame if one is due at ``time_s``."""
        if time_s + 1e-9 < self._next_s:
            return
        if time_s - self._next_s >= self.period_s:   # started late (after a look, say): film from now,
            self._next_s = time_s                    # not a frame every tick until the clock catches up
        self._next_s += self.period_s
        self._renderer.update_scene(data, camera=self._camera)
        self._writer.append_data(self._renderer.render())
        self.frames += 1

    def close(self) -> None:
        self._writer.close()
        self._renderer.close()
