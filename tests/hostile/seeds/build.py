"""Rebuild the fuzzing seeds from the bundled Pose2Sim trial: small, valid files of every format we read.
Run: python tests/hostile/seeds/build.py"""
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from mocap.io.calibration import read_calibration, write_opencv_yml, write_qca, write_toml
from mocap.io.keypoints import read_openpose_folders, write_keypoints
from mocap.io.motion import read_trc, write_c3d, write_csv, write_npz, write_trc
from mocap.io.offsets import write_offsets
from mocap.pipelines.convert import write_any

HERE = Path(__file__).resolve().parent
P2S = HERE.parents[1] / "data" / "pose2sim"


def main():
    m = read_trc(next((P2S / "trial" / "pose-3d").glob("*0-100.trc")))
    m = replace(m, positions=m.positions[:8], confidence=None if m.confidence is None else m.confidence[:8])
    write_trc(m, HERE / "clip.trc")
    write_csv(m, HERE / "clip.csv")
    write_npz(m, HERE / "clip.npz")
    write_c3d(m, HERE / "clip.c3d")
    write_any(m, HERE / "clip.bvh", "generic")
    rig = read_calibration(P2S / "calibration" / "Calib_qualisys.toml")
    write_toml(rig, HERE / "calib.toml")
    write_qca(rig, HERE / "calib.qca.txt")
    write_opencv_yml(rig, HERE)
    shutil.copy(P2S / "trial" / "pose" / "cam01_json" / "cam01.0001.json", HERE / "cam01.0001.json")
    multi = read_openpose_folders([P2S / "trial" / "pose" / "cam01_json"], fps=60)
    kp = replace(multi, data=multi.data[:, :4, :1]).single()
    kp = replace(kp, frames=kp.frames[:4])
    write_keypoints(kp, HERE / "keypoints.npz")
    write_keypoints(kp, HERE / "keypoints.csv")
    coco = [{"image_id": t, "category_id": 1, "score": 0.9,
             "keypoints": [round(float(v), 2) for v in np.nan_to_num(kp.data[0, t, :17]).ravel()]} for t in range(2)]
    (HERE / "coco.json").write_text(json.dumps(coco))
    write_offsets({"reference": rig.names[0], "method": "geometric",
                   "cameras": [{"name": n, "offset_s": 0.01 * i, "fps": 60.0, "confidence": 0.9}
                               for i, n in enumerate(rig.names)]}, HERE / "offsets.toml")


if __name__ == "__main__":
    main()
