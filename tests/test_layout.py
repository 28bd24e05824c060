"""The package's layout: no import cycles (module-level and inside functions), data flows down
(core <- io <- stages <- pipelines <- batch <- cli), nothing imports the CLI, the old paths are gone, no long
positional calls."""
import ast
import re
from pathlib import Path

import pytest

from conftest import ROOT

PKG = ROOT / "mocap"
CORE = {"mocap.core", "mocap.errors", "mocap.runtime", "mocap.workers"}
STAGES = {"mocap.calib", "mocap.detect", "mocap.associate", "mocap.triangulate", "mocap.lift", "mocap.smooth", "mocap.retarget",
          "mocap.viz"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module of ours that ``path`` imports, anywhere in the file (functions included)."""
    name = module_name(path)
    base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                mod = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("mocap"):
                continue
            for a in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{mod}.{a.name}"
                out.add(sub if sub in MODULES else mod)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("mocap")}
    return {m for m in out if m != name}


MODULES = {module_name(p): p for p in PKG.rglob("*.py")}
GRAPH = {m: imports_of(p) for m, p in MODULES.items()}


def layer(mod: str) -> str:
    for prefix in sorted(CORE | STAGES | {"mocap.io", "mocap.pipelines", "mocap.batch", "mocap.cli"}, key=len,
                         reverse=True):
        if mod == prefix or mod.startswith(prefix + "."):
            return prefix
    return mod


def test_every_import_resolves_to_a_module_of_ours():
    unknown = {(m, i) for m, deps in GRAPH.items() for i in deps if i not in MODULES}
    assert not unknown, sorted(unknown)


def test_no_import_cycle():
    """Depth-first search over the graph (package __init__ re-exports included); a back edge is a cycle."""
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in sorted(GRAPH.get(m, ())):
            if state.get(d) == "open":
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_data_flows_down():
    bad = []
    for m, deps in GRAPH.items():
        for d in deps:
            src, dst = layer(m), layer(d)
            if dst == "mocap.cli" and src != "mocap.cli":
                bad.append(f"{m} imports the CLI ({d})")
            if src in CORE and layer(d) not in CORE:
                bad.append(f"core {m} imports {d}")
            if src == "mocap.io" and dst not in CORE | {"mocap.io"}:
                bad.append(f"io {m} imports {d}")
            if src in STAGES and dst in {"mocap.pipelines", "mocap.cli"}:
                bad.append(f"stage {m} imports {d}")
            if src == "mocap.pipelines" and dst in {"mocap.batch", "mocap.cli"}:
                bad.append(f"pipeline {m} imports {d}")
            if src in STAGES and dst == "mocap.batch":
                bad.append(f"stage {m} imports {d}")
    assert not bad, "\n".join(sorted(bad))


def test_inference_does_not_import_training():
    for m in ("mocap.lift.model", "mocap.pipelines.monocular"):
        assert not {d for d in GRAPH[m] if d in ("mocap.lift.train", "mocap.lift.data")}, (m, GRAPH[m])


OLD_PATHS = ("mocap.skeletons", "mocap.keypoints", "mocap.motion", "mocap.camera", "mocap.bvh", "mocap.video",
             "mocap.info", "mocap.association", "mocap.triangulation", "mocap.lifter", "mocap.liftdata",
             "mocap.lifter_train", "mocap.refine", "mocap.filters", "mocap.gaps", "mocap.metrics", "mocap.rigs",
             "mocap.pipeline", "mocap.videojobs", "mocap.convert", "mocap.scene3d", "mocap.render", "mocap.viewer",
             "mocap.preview", "mocap.plots", "mocap.viewcli", "mocap.calib.commands",  # the 0.1 layout
             "mocap.detect.people", "mocap.detect.association")  # multi-view association moved to mocap.associate


def test_old_paths_are_gone_and_nothing_imports_them():
    """The 0.1 flat module paths have no compatibility layer: importing one fails, and no module, test, notebook or
    benchmark of ours names one."""
    import importlib

    for old in OLD_PATHS:
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(old)
    pattern = re.compile(r"\b(" + "|".join(re.escape(o) for o in OLD_PATHS) + r")\b(?![.\w])")
    used = [f"{p.relative_to(ROOT)}: {m.group(1)}" for folder in ("mocap", "tests", "benchmarks", "notebooks")
            for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".ipynb") and p.name != "test_layout.py"
            for m in [pattern.search(p.read_text())] if m]
    assert not used, used


@pytest.mark.parametrize("folder", ["core", "io", "calib", "detect", "associate", "triangulate", "lift", "smooth", "retarget",
                                    "pipelines", "batch", "viz", "cli"])
def test_readme_maps_every_folder(folder):
    text = (ROOT / "README.md").read_text()
    assert f"`{folder}/`" in text, folder


def test_no_function_over_60_lines_outside_parser_definitions():
    long = []
    for m, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                parser = m.startswith("mocap.cli.") and node.name.startswith("add_")
                if n > 60 and not parser:
                    long.append(f"{m}.{node.name}: {n} lines")
    assert not long, long


def test_no_call_of_ours_passes_more_than_six_arguments_by_position():
    """A call to a function or class of the package passes at most 6 arguments by position, the rest by keyword (a
    field moved is then an error, not a silent bug); functions taking ``*args`` are exempt."""
    trees = {p: ast.parse(p.read_text()) for p in PKG.rglob("*.py")}
    ours, varargs = set(), set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                ours.add(node.name)
                if isinstance(node, ast.FunctionDef) and node.args.vararg is not None:
                    varargs.add(node.name)
    long = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) <= 6:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            external = isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and \
                node.func.value.id in ("cv2", "nn", "np", "t", "table")
            if name in ours and name not in varargs and not external:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}: {len(node.args)} by position")
    assert not long, long


def _commands():
    import argparse

    from mocap.cli.main import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def test_each_option_default_is_stated_once():
    """Every command-line option generated from a job's typed options carries the dataclass default object itself
    (generated, not copied), and the batch sections take the same defaults except batch's own, listed once."""
    from mocap.batch.config import DEFAULTS, JOB_SECTIONS
    from mocap.core.options import specs
    from mocap.pipelines.options import CalibrationOptions
    from mocap.pipelines.options import ConvertOptions, SmoothOptions
    from mocap.pipelines.options import DetectOptions
    from mocap.pipelines.options import LiveOptions
    from mocap.pipelines.options import LiftOptions, VideoOptions
    from mocap.pipelines.options import TriangulationJob
    from mocap.pipelines.options import SyncOptions

    jobs = {"triangulate": TriangulationJob, "sync": SyncOptions, "detect": DetectOptions, "video2bvh": VideoOptions,
            "lift": LiftOptions, "live": LiveOptions, "convert": ConvertOptions, "smooth": SmoothOptions,
            "calibrate": CalibrationOptions}
    seen = 0
    for cmd, parser in _commands():
        if cmd not in jobs:
            continue
        fields = specs(jobs[cmd])
        for a in parser._actions:
            if a.dest in fields and a.option_strings:
                default = fields[a.dest][0]
                if isinstance(a, argparse_store_bool()):
                    assert a.default is (not a.const), (cmd, a.dest)
                    assert a.default == default, (cmd, a.dest)
                else:
                    assert a.default is default, f"{cmd} {a.option_strings}: {a.default!r} is not the job's default"
                seen += 1
    assert seen >= 60, seen
    for sec, (cls, keys, own) in JOB_SECTIONS.items():
        for k in keys:
            assert k in own or DEFAULTS[sec][k] is specs(cls)[k][0], (sec, k)


def argparse_store_bool():
    import argparse

    return (argparse._StoreTrueAction, argparse._StoreFalseAction)


def test_option_text_is_not_restated_in_the_cli():
    """No parser default, choice list or range is written in cli/ or batch/ for an option a job declares."""
    from mocap.core.options import specs
    from mocap.pipelines.options import TriangulationJob

    text = "".join(p.read_text() for p in (PKG / "cli").glob("*.py")) + (PKG / "batch" / "config.py").read_text()
    assert '"--min-confidence"' not in text and "0.3" not in text
    assert "min_confidence" in specs(TriangulationJob)


def _functions():
    """name -> {(positional parameters, all parameters)} of every function of the package (self/cls not counted)."""
    out: dict = {}
    for p in PKG.rglob("*.py"):
        for n in ast.walk(ast.parse(p.read_text())):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                pos = [a.arg for a in n.args.posonlyargs + n.args.args]
                pos = pos[1:] if pos and pos[0] in ("self", "cls") else pos
                out.setdefault(n.name, set()).add((len(pos), len(pos) + len(n.args.kwonlyargs), n.args.vararg is not None))
            if isinstance(n, ast.ClassDef):  # a class called by its name runs its __init__
                for m in n.body:
                    if isinstance(m, ast.FunctionDef) and m.name == "__init__":
                        pos = len(m.args.posonlyargs + m.args.args) - 1
                        out.setdefault(n.name, set()).add((pos, pos + len(m.args.kwonlyargs), m.args.vararg is not None))
    return out


def test_functions_with_more_than_four_parameters_take_the_rest_by_keyword():
    """No function of the package takes more than four arguments by position (the fifth and later are keyword-only),
    and no call in the package, its tests or benchmarks passes one of ours more than it takes by position."""
    fns = _functions()
    wide = sorted(name for name, sigs in fns.items() for npos, _, _ in sigs if npos > 4)
    assert not wide, wide
    bad = []
    for folder in ("mocap", "tests", "benchmarks"):
        for p in (ROOT / folder).rglob("*.py"):
            for n in ast.walk(ast.parse(p.read_text())):
                if not isinstance(n, ast.Call) or len(n.args) <= 4 or any(isinstance(a, ast.Starred) for a in n.args):
                    continue
                name = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", None)
                sigs = fns.get(name, set())
                if sigs and all(not var and total > 4 and len(n.args) > npos for npos, total, var in sigs):
                    bad.append(f"{p.relative_to(ROOT)}:{n.lineno} {name}: {len(n.args)} by position")
    assert not bad, bad
