"""Native libraries and third-party log noise.

- :func:`import_open3d` makes ``import open3d`` work where the system has no ``libusb-1.0`` (a fresh
  Debian machine): the copy shipped by the ``libusb-package`` wheel is loaded first, globally, so the
  dynamic linker finds it when open3d's extension asks for ``libusb-1.0.so.0``. Open3D's own
  INFO/WARNING lines (GLFW, EGL) are turned off unless verbose.
- :func:`native_quiet` silences what C++ libraries print straight to the process' stderr
  (TensorFlow Lite's ``INFO: Created TensorFlow Lite XNNPACK delegate``, absl/glog ``W0000 ...`` lines,
  GLFW): file descriptor 2 goes to a temporary file for the duration and is shown afterwards only
  when verbose (:func:`set_verbose`, the CLI's ``--verbose``) or when the block failed with an
  unexpected exception.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
import threading
from pathlib import Path

_VERBOSE = False
_LOCK = threading.Lock()
_DEPTH = 0  # nested native_quiet blocks: only the outermost one redirects


def set_verbose(on: bool) -> None:
    """Show (True) or hide (False, the default) third-party native log output."""
    global _VERBOSE
    _VERBOSE = bool(on)


def verbose() -> bool:
    return _VERBOSE


@contextlib.contextmanager
def native_quiet():
    """Redirect the process' stderr (fd 2, where C/C++ libraries log) to a temporary file while the
    block runs; replay it on exit when verbose or when the block raised something other than a
    :class:`~mocap.errors.MocapError`. Python-level exceptions are not affected (they propagate).
    Inside an enclosing block (e.g. the detector called per frame within a whole video) it costs
    nothing: the outer redirect already holds."""
    global _DEPTH
    with _LOCK:
        if _VERBOSE or _DEPTH:
            inner = True
        else:
            inner = False
            try:
                sys.stderr.flush()
            except (AttributeError, ValueError):
                pass
            saved = os.dup(2)
            log = tempfile.TemporaryFile()
            os.dup2(log.fileno(), 2)
        _DEPTH += 1
    if inner:
        try:
            yield
        finally:
            with _LOCK:
                _DEPTH -= 1
        return
    failed = False
    try:
        yield
    except BaseException as e:
        from .errors import MocapError

        failed = not isinstance(e, (MocapError, KeyboardInterrupt, GeneratorExit))
        raise
    finally:
        with _LOCK:
            _DEPTH -= 1
            try:
                sys.stderr.flush()
            except (AttributeError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
        if failed:
            log.seek(0)
            os.write(2, log.read())
        log.close()


def quiet_environment() -> None:
    """Environment variables that lower C++ log levels of libraries not yet loaded (glog, TF)."""
    if not _VERBOSE:
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _system_has(soname: str) -> bool:
    try:
        ctypes.CDLL(soname, mode=ctypes.RTLD_GLOBAL)
        return True
    except OSError:
        return False


def preload_libusb() -> str | None:
    """Make ``libusb-1.0.so.0`` loadable: the system's if it has one, else the ``libusb-package``
    wheel's (loaded with RTLD_GLOBAL). Returns the path or soname used, None when neither exists."""
    if not sys.platform.startswith("linux"):
        return None
    if _system_has("libusb-1.0.so.0"):
        return "libusb-1.0.so.0"
    try:
        import libusb_package
    except ImportError:
        return None
    for name in ("libusb-1.0.so", "libusb-1.0.so.0"):
        p = Path(libusb_package.__file__).parent / name
        if p.exists():
            ctypes.CDLL(str(p), mode=ctypes.RTLD_GLOBAL)
            return str(p)
    return None


def import_open3d():
    """``import open3d`` with libusb provided (see :func:`preload_libusb`), a private
    ``XDG_RUNTIME_DIR`` on headless servers and Open3D's logging at errors only (unless verbose).
    Raises :class:`~mocap.errors.MocapError` with the fix when it cannot be imported."""
    from .errors import MocapError

    if "open3d" in sys.modules:
        return sys.modules["open3d"]
    if not os.environ.get("XDG_RUNTIME_DIR"):  # headless servers: GLFW otherwise prints a stray "error:" line
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="mocap-xdg-")
    preload_libusb()
    try:
        with native_quiet():
            import open3d as o3d
    except ImportError as e:
        hint = ("pip install 'mocap-pipeline[view]'" if "open3d" in str(e) and "No module" in str(e)
                else "a native library is missing; on Debian run `make system` or apt-get install libgl1 libegl1 "
                     "libegl-mesa0 libgl1-mesa-dri libgomp1")
        raise MocapError(f"3D viewing needs open3d-cpu==0.20.0 ({hint}): {e}") from None
    o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Debug if _VERBOSE else o3d.utility.VerbosityLevel.Error)
    return o3d


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP turned into an interrupt (:func:`stop_on_signals`): the work stops as on Ctrl-C
    (atomic writes drop their temporary files, long runs keep what they finished); ``signum`` says which."""

    def __init__(self, signum: int):
        import signal

        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def raised_by_signal(error: BaseException) -> "Terminated | None":
    """The :class:`Terminated` that ``error`` was raised while handling (Python's ``__context__`` chain), if any: a
    signal's exception raised inside ``threading``'s lock code can make that code fail in turn ("release unlocked
    lock"), and the failure, not the signal, reaches the caller."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, Terminated):
            return error
        seen.add(id(error))
        error = error.__context__
    return None


class StopEvent(threading.Event):
    """Set by a signal (:func:`signals_as_event`); ``signum`` says which (0 until then)."""

    signum = 0


@contextlib.contextmanager
def signals_as_event():
    """While the block runs in the main thread, Ctrl-C (SIGINT), SIGTERM and SIGHUP set the yielded
    :class:`StopEvent` instead of raising: for loops that poll it. An exception raised by a signal handler lands
    wherever the main thread is, and inside ``threading``'s lock code it can leave a lock released twice
    (``RuntimeError: release unlocked lock`` instead of a clean stop); a second Ctrl-C still raises
    KeyboardInterrupt. The previous handlers come back afterwards. Elsewhere the event is never set."""
    import signal

    stop, old = StopEvent(), {}
    if threading.current_thread() is threading.main_thread():
        def handler(signum, frame):
            if stop.is_set() and signum == signal.SIGINT:
                raise KeyboardInterrupt
            stop.signum = stop.signum or signum
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            old[sig] = signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


@contextlib.contextmanager
def stop_on_signals():
    """While the block runs in the main thread, SIGTERM and SIGHUP raise :class:`Terminated` (as Ctrl-C raises
    KeyboardInterrupt); the previous handlers come back afterwards. Elsewhere it does nothing."""
    import signal

    old = {}
    if threading.current_thread() is threading.main_thread():
        def handler(signum, frame):
            raise Terminated(signum)

        for sig in (signal.SIGTERM, signal.SIGHUP):
            old[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
