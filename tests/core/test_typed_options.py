"""Typed options (mocap.core.options) and the one People choice: every value checked where it is declared, from
Python, the command line and batch TOML alike; the values users mistype give one clear error."""
import numpy as np
import pytest

from mocap.cli.main import main
from mocap.core.options import check_value, defaults, from_mapping
from mocap.core.people import People
from mocap.errors import MocapError
from mocap.pipelines.options import ConvertOptions
from mocap.pipelines.options import LiftOptions, VideoOptions
from mocap.pipelines.options import TriangulationJob

TRC = "tests/data/pose2sim/trial/pose-3d/S00_P00_T01_BalancingTrial_0-100_filt_butterworth.trc"


def test_people_words_have_one_meaning():
    assert People.parse("1") == People() and People.parse(1) == People(1, None)
    assert People.parse("3") == People(3, None) and People.parse("all").everyone
    assert People.parse("p7") == People(None, 7) and People.parse("P7").single
    assert not People.parse("2").single and People.parse("1").single
    for bad in ("0", "-1", "p0", "x", "", "1.5", True, 2.5):
        with pytest.raises(MocapError):
            People.parse(bad)
    ids, frames = np.array([1, 2, 3, 4]), np.array([10, 50, 50, 5])
    assert People.parse("2").pick(ids, frames).tolist() == [1, 2]      # the two most present, by first appearance
    assert People.parse("1").pick(ids, frames).tolist() == [1]         # ties: the first to appear
    assert People.parse("all").pick(ids, frames).tolist() == [0, 1, 2, 3]
    assert People.parse("p4").pick(ids, frames).tolist() == [3]
    with pytest.raises(MocapError, match="no person p9"):
        People.parse("p9").pick(ids, frames)
    assert [str(People.parse(w)) for w in ("all", "3", "p2")] == ["all", "3", "p2"]


def test_every_value_checked_where_declared():
    with pytest.raises(MocapError, match="min_confidence must be in \\[0, 1\\), not 1.5"):
        TriangulationJob("calib.toml", [], min_confidence=1.5)
    with pytest.raises(MocapError, match="mode must be one of robust, pose2sim"):
        TriangulationJob("calib.toml", [], mode="fast")
    with pytest.raises(MocapError, match="rig must be one of"):
        VideoOptions(rig="gorilla")
    with pytest.raises(MocapError, match="width must be a whole number"):
        LiftOptions(width=1920.5)
    with pytest.raises(MocapError, match="units must be one of"):
        ConvertOptions(units="furlong")
    assert check_value(LiftOptions, "width", 640.0) == 640 and isinstance(check_value(LiftOptions, "width", 640.0), int)
    with pytest.raises(MocapError, match="unknown option lift.zoom"):
        from_mapping(LiftOptions, {"zoom": 2}, "mocap.toml", "lift")
    assert from_mapping(LiftOptions, {"focal": 1000}).focal == 1000
    assert defaults(TriangulationJob, ["fps", "people"]) == {"fps": None, "people": 1}  # fps: the files' own


def test_batch_checks_with_the_jobs_checks():
    from mocap.batch.config import resolve

    for opts, msg in [({"triangulate": {"people": 0}}, "triangulate.people takes"),
                      ({"retarget": {"units": "furlong"}}, "retarget.units must be one of"),
                      ({"triangulate": {"min_confidence": 2}}, "triangulate.min_confidence must be in"),
                      ({"sync": {"method": "magic"}}, "sync.method must be one of geometric, motion"),
                      ({"lift": {"contacts": "on"}}, "lift.contacts must be one of auto, off")]:
        with pytest.raises(MocapError, match=msg):
            resolve(opts, "mocap.toml")
    assert resolve({"triangulate": {"people": "p2"}}, "x")["triangulate"]["people"] == "p2"  # kept as written


@pytest.mark.parametrize("argv,cause", [
    (["convert", TRC, "{tmp}/x.bvh", "--units", "furlong"], "argument --units: must be one of"),
    (["smooth", TRC, "-o", "{tmp}/x.trc", "--filter", "median", "--param", "kernel=1e7"],
     "kernel 1e+07 spans 10000000 frames, longer than the motion (100 frames"),
    (["smooth", TRC, "-o", "{tmp}/x.trc", "--filter", "savgol", "--param", "window=5"], "longer than the motion"),
    (["smooth", TRC, "-o", "{tmp}/x.trc", "--param", "order=0"], "order must be a whole number >= 1"),
    (["smooth", TRC, "-o", "{tmp}/x.trc", "--filter", "one_euro", "--param", "min_cutoff=0"], "min_cutoff must be"),
])
def test_free_form_values_are_checked(argv, cause, tmp_path, capsys):
    """The values the review found slipping through: one error line, exit 2, nothing written, in seconds."""
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.count("\n") == 0 and cause in err and "Traceback" not in err, err
    assert not list(tmp_path.iterdir())
