"""Test-session settings shared by the unit tests and the notebook runs (nbval)."""

import os
import tempfile

# Set before any kernel starts, so every notebook nbval launches inherits them:
# fast mode, the CPU, and a fresh checkpoint folder per run
# (a cached model would hide a lesson that no longer trains).
os.environ["COURSE_FAST"] = "1"
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("COURSE_CHECKPOINT_DIR", tempfile.mkdtemp(prefix="course-checkpoints-"))
