"""The package's layout: no import cycles (module-level and inside functions), data flows down
(core <- io <- stages <- pipelines <- batch <- cli), nothing imports the CLI, old paths warn and still work."""
import ast
import warnings
from pathlib import Path

import pytest

from conftest import ROOT

PKG = ROOT / "mocap"
CORE = {"mocap.core", "mocap.errors", "mocap.runtime"}
STAGES = {"mocap.calib", "mocap.detect", "mocap.triangulate", "mocap.lift", "mocap.smooth", "mocap.retarget",
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


def test_old_paths_warn_and_give_the_new_module():
    import importlib

    import mocap

    for old, new in mocap.MOVED.items():
        import sys
        sys.modules.pop(old, None)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            mod = importlib.import_module(old)
        assert mod is importlib.import_module(new)
        assert any(issubclass(x.category, DeprecationWarning) and new in str(x.message) for x in w), old
    for m in MODULES:  # and nothing of ours still uses them
        assert not {d for d in GRAPH[m] if d in mocap.MOVED}, m


@pytest.mark.parametrize("folder", ["core", "io", "calib", "detect", "triangulate", "lift", "smooth", "retarget",
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
