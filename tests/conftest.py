"""Shared test set-up: make `tools` importable, draw plots off-screen, one thread per kernel."""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
# pytest runs two notebooks at once (-n 2); with each kernel's torch using every
# core they fight over the CPU and small training loops get many times slower.
# Kernels inherit this, and tiny models run as fast on one thread anyway.
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
