"""The ``mocap`` command: argparse + rich over the API (:mod:`.main`); nothing imports it."""
from .main import build_parser, main  # noqa: F401
