"""Flow files: the work specs and work units that ``coordinate run`` loads.

A flow file is YAML (or JSON, by a ``.json`` suffix)::

    flows:                      # work spec name -> spec data
      split:
        module: wordcount       # imported with the flow file's folder on sys.path
        run_function: split_file
        then: count             # chain outputs into "count"
      count:
        module: wordcount
        run_function: count_words
        priority: 1
    units:                      # optional: work spec name -> its units
      split:
        - a.txt                 # a name (empty data) ...
        - {name: b.txt, data: {path: texts/b.txt}, priority: 5, delay: 0}
      count:                    # ... or a mapping of name -> data
        c: {path: texts/c.txt}

A units file (``--units FILE``) holds the same ``units`` mapping, at its top
level or under a ``units`` key. A unit's ``delay`` is seconds between 0 and
:data:`coordinate.worker.MAX_SECONDS`. YAML anchors and aliases (and ``<<``
merge keys) work, but aliases may add at most :data:`MAX_ALIAS_VALUES`
values to a document and may not refer to a node from inside it. Every
problem is a :class:`FlowError` whose message is one line naming the file
and what is wrong.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Collection, Dict, List, Mapping, Optional, Sequence, Union

import yaml

from ._coordinate import Namespace, WorkUnitMeta, parse_add_work_unit
from ._errors import CoordinateError
from .worker import (
    DEFAULT_RUNTIMES,
    TaskFunction,
    TaskLoadError,
    duration_problem,
    resolve_function,
)

__all__ = [
    "Flow",
    "FlowError",
    "MAX_ALIAS_VALUES",
    "UnitItem",
    "check_functions",
    "install",
    "load_flow",
    "load_units",
    "parse_flow",
    "parse_units",
    "read_document",
]

_PathLike = Union[str, Path]


class FlowError(Exception):
    """A flow or units file that cannot be used; ``str(e)`` is one line."""


@dataclass(frozen=True)
class UnitItem:
    """One work unit to add: name, data, priority and delay in seconds."""

    name: str
    data: Dict[str, Any] = field(default_factory=dict)
    priority: float = 0.0
    delay: float = 0.0


@dataclass
class Flow:
    """A loaded flow file: work specs in file order, and units per spec."""

    path: Path
    specs: Dict[str, Dict[str, Any]]
    units: Dict[str, List[UnitItem]] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return str(self.path)


def _type_name(obj: object) -> str:
    return "nothing" if obj is None else type(obj).__name__


class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: dates stay strings (work unit
    data holds no date type)."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


#: How many values YAML aliases may add to a document, counting each alias
#: as a copy of what it names. Anchors reused for shared settings stay far
#: below it; an "alias bomb" (aliases of aliases of ...), which a few hundred
#: bytes can make expand to billions of values, is refused before anything
#: is built from it.
MAX_ALIAS_VALUES = 100_000


def _children(node: yaml.Node) -> List[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_aliases(root: yaml.Node, source: str) -> None:
    """Raises :class:`FlowError` if the composed document refers to itself
    (an alias inside the node it names) or if its aliases would add more than
    :data:`MAX_ALIAS_VALUES` values. Linear in the document's distinct nodes:
    the expanded size is counted, never built."""
    cap = MAX_ALIAS_VALUES * 10 + 1  # keeps the sums small; anything above is refused
    sizes: Dict[int, int] = {}  # id(node) -> its size with aliases expanded
    open_nodes = set()  # ids of nodes whose children are being counted
    stack = [(root, False)]
    while stack:
        node, counted = stack.pop()
        key = id(node)
        if counted:
            open_nodes.discard(key)
            sizes[key] = min(cap, 1 + sum(sizes[id(c)] for c in _children(node)))
            continue
        if key in sizes:
            continue
        open_nodes.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                mark = child.start_mark
                raise FlowError(
                    f"{source}: the YAML node at line {mark.line + 1}, column {mark.column + 1} "
                    "contains an alias of itself; flow files hold plain, finite data"
                )
            if id(child) not in sizes:
                stack.append((child, False))
    if sizes[id(root)] - len(sizes) > MAX_ALIAS_VALUES:
        raise FlowError(
            f"{source}: YAML aliases would add more than {MAX_ALIAS_VALUES} values "
            "to the document (an alias bomb?); use fewer aliases"
        )


def _yaml_load(text: str, source: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_aliases(node, source)
        return loader.construct_document(node)
    except RecursionError:
        raise FlowError(f"{source}: YAML nested too deeply") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = e.problem or e.context or "cannot parse"
        raise FlowError(f"{source}: malformed YAML{where}: {problem}") from None
    except yaml.YAMLError as e:
        raise FlowError(f"{source}: malformed YAML: {e}") from None
    finally:
        loader.dispose()


def read_document(path: _PathLike, what: str = "flow file") -> Any:
    """Reads and parses a YAML or JSON file (JSON by a ``.json`` suffix)."""
    p = Path(path)
    source = str(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FlowError(f"{what} not found: {source}") from None
    except IsADirectoryError:
        raise FlowError(f"{what} is a directory: {source}") from None
    except UnicodeDecodeError:
        raise FlowError(f"{source}: not UTF-8 text") from None
    except OSError as e:
        raise FlowError(f"cannot read {what} {source}: {e.strerror or e}") from None
    if p.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise FlowError(
                f"{source}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}"
            ) from None
        except RecursionError:
            raise FlowError(f"{source}: JSON nested too deeply") from None
    return _yaml_load(text, source)


_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _unit_item(obj: Any, spec: str, i: int, source: str) -> UnitItem:
    where = f"units of {spec!r}, item {i + 1}"
    if isinstance(obj, str):
        return UnitItem(obj)
    if not isinstance(obj, dict) or "name" not in obj:
        raise FlowError(f"{source}: {where}: expected a name or a mapping with a 'name' key")
    if isinstance(obj.get("delay"), (int, float)) and obj["delay"] < 0:
        raise FlowError(f"{source}: {where}: delay must not be negative")
    try:  # the core's one grammar of a unit to add (docs/semantics.md §3.14)
        item = parse_add_work_unit(obj, _EPOCH)
    except (CoordinateError, TypeError, ValueError, OverflowError) as e:
        raise FlowError(f"{source}: {where}: {e}") from None
    nb = item.meta.not_before
    delay = 0.0 if nb is None else (nb - _EPOCH).total_seconds()
    return UnitItem(item.key, item.data, item.meta.priority, delay)


def parse_units(obj: Any, source: str, specs: Collection[str]) -> Dict[str, List[UnitItem]]:
    """Parses a ``units`` mapping: work spec name -> list of names or
    ``{name, data, priority, delay}`` mappings, or -> mapping name -> data."""
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise FlowError(
            f"{source}: units must map work spec names to their units, not {_type_name(obj)}"
        )
    out: Dict[str, List[UnitItem]] = {}
    for spec, items in obj.items():
        if not isinstance(spec, str) or spec not in specs:
            raise FlowError(f"{source}: units for {spec!r}, which is not a flow")
        if items is None:
            units: List[UnitItem] = []
        elif isinstance(items, list):
            units = [_unit_item(x, spec, i, source) for i, x in enumerate(items)]
        elif isinstance(items, dict):
            units = []
            for name, data in items.items():
                if not isinstance(name, str):
                    raise FlowError(f"{source}: units of {spec!r}: names must be strings")
                if data is None:
                    data = {}
                if not isinstance(data, dict):
                    raise FlowError(
                        f"{source}: units of {spec!r}: data of {name!r} must be a mapping, "
                        f"not {_type_name(data)}"
                    )
                units.append(UnitItem(name, data))
        else:
            raise FlowError(
                f"{source}: units of {spec!r} must be a list or a mapping, not {_type_name(items)}"
            )
        out.setdefault(spec, []).extend(units)
    return out


def parse_flow(doc: Any, path: _PathLike) -> Flow:
    """Checks a parsed flow document and returns the :class:`Flow`."""
    source = str(path)
    if doc is None:
        raise FlowError(f"{source}: empty file; expected a 'flows' mapping")
    if not isinstance(doc, dict):
        raise FlowError(f"{source}: expected a mapping with a 'flows' key, not {_type_name(doc)}")
    unknown = sorted(str(k) for k in doc if k not in ("flows", "units"))
    if unknown:
        raise FlowError(f"{source}: unknown key {unknown[0]!r} (expected 'flows' and 'units')")
    flows = doc.get("flows")
    if flows is None:
        raise FlowError(f"{source}: no 'flows' mapping of work spec name to spec data")
    if not isinstance(flows, dict):
        raise FlowError(
            f"{source}: 'flows' must map work spec names to spec data, not {_type_name(flows)}"
        )
    if not flows:
        raise FlowError(f"{source}: 'flows' is empty")
    specs: Dict[str, Dict[str, Any]] = {}
    for name, data in flows.items():
        if not isinstance(name, str) or not name:
            raise FlowError(f"{source}: flow names must be non-empty strings, not {name!r}")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise FlowError(
                f"{source}: flow {name!r} must be a mapping of spec data, not {_type_name(data)}"
            )
        if "name" in data and data["name"] != name:
            raise FlowError(
                f"{source}: flow {name!r} has name {data['name']!r}; leave it out or make it match"
            )
        specs[name] = {"name": name, **{k: v for k, v in data.items() if k != "name"}}
    for name, data in specs.items():
        then = data.get("then")
        if then not in (None, "") and then not in specs:
            raise FlowError(
                f"{source}: flow {name!r} chains to {then!r} (then), which is not a flow"
            )
    return Flow(Path(path), specs, parse_units(doc.get("units"), source, specs))


def load_flow(path: _PathLike) -> Flow:
    """Reads, parses and checks a flow file."""
    return parse_flow(read_document(path, "flow file"), path)


def load_units(path: _PathLike, specs: Collection[str]) -> Dict[str, List[UnitItem]]:
    """Reads a units file: the ``units`` mapping, at the top or under ``units``."""
    doc = read_document(path, "units file")
    if isinstance(doc, dict) and set(doc) == {"units"}:
        doc = doc["units"]
    if doc is None:
        raise FlowError(f"{path}: empty file; expected a mapping of work spec name to units")
    return parse_units(doc, str(path), specs)


def _serves(data: Mapping[str, Any], runtimes: Sequence[str]) -> bool:
    runtime = data.get("runtime")
    return not runtimes or (runtime if isinstance(runtime, str) else "") in runtimes


def check_functions(
    flow: Flow,
    runtimes: Sequence[str] = DEFAULT_RUNTIMES,
    functions: Optional[Mapping[str, TaskFunction]] = None,
) -> List[str]:
    """Imports the run function of every spec the runtimes serve, with the
    flow file's folder on ``sys.path``; raises :class:`FlowError` for the
    first that fails. Returns warnings for specs no runtime here serves."""
    folder = str(flow.path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    warnings = []
    for name, data in flow.specs.items():
        if not _serves(data, runtimes):
            warnings.append(
                f"{flow.source}: flow {name!r} has runtime {data.get('runtime')!r}, "
                "which this run does not serve; its units will not run"
            )
            continue
        try:
            resolve_function(data, functions)
        except TaskLoadError as e:
            msg = str(e)
            sep = " " if msg.startswith("has ") else ": "
            raise FlowError(f"{flow.source}: flow {name!r}{sep}{msg}") from None
    return warnings


def install(
    flow: Flow,
    namespace: Namespace,
    now: datetime,
    extra_units: Sequence[Mapping[str, List[UnitItem]]] = (),
) -> int:
    """Sets the flow's work specs in ``namespace`` and adds its units (then
    each of ``extra_units``); returns the number of units added."""
    for name, data in flow.specs.items():
        try:
            namespace.set_work_spec(data)
        except (CoordinateError, TypeError, ValueError, OverflowError) as e:
            raise FlowError(f"{flow.source}: flow {name!r}: {e}") from None
    added = 0
    for units in (flow.units, *extra_units):
        for spec_name, items in units.items():
            spec = namespace.work_spec(spec_name)
            batch = []
            for u in items:
                not_before = now + timedelta(seconds=u.delay) if u.delay > 0 else None
                batch.append((u.name, u.data, WorkUnitMeta(u.priority, not_before)))
            try:
                added += spec.add_work_units(batch)
            except (CoordinateError, TypeError, ValueError, OverflowError) as e:
                raise FlowError(f"{flow.source}: units of {spec_name!r}: {e}") from None
    return added
