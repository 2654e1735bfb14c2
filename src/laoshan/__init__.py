"""Laoshan: an open humanoid robot software stack (brain, cerebellum, limbs) on honest MuJoCo physics."""

import os

# MuJoCo chooses its OpenGL backend when it is first imported; with no display (servers, CI) the
# CPU-rendered EGL path (Mesa) is the one that works. A value set by the user is kept.
os.environ.setdefault("MUJOCO_GL", "egl")

__version__ = "0.1.0"
