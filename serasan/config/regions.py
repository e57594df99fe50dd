"""How the catalog says a dataset's region column is read, and the alias table for names.

The region block (`region:` of a dataset, `RegionSpec`) declares the `scheme` its values are
written in: `kemendagri` codes (the default; `undotted: true` accepts 10-digit codes without
dots), `bps` codes, mapped through the BPS crosswalk, or region `name`s, resolved within their
parent (the dataset's regency, or the kecamatan named by `parent_column`). `name_column` names
a column of the file carrying the region's name, checked against the code whatever the scheme;
`source_column` a string column that keeps the value exactly as the file sent it, beside the
resolved code. `region_problems` checks those fields for `catalog validate`.

`catalog/aliases.yaml` lists the region names real files spell otherwise than Kemendagri, each
with the code it means, reviewed like any catalog change:

    - alias: OKU Selatan
      kode: "16.09"
      nama: Kabupaten Ogan Komering Ulu Selatan   # the code's own name, checked
      catatan: BPS and Satu Data tables of Sumatera Selatan

`load_aliases` reads and checks it against the shipped reference (`serasan.reference`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from serasan.reference.names import Alias, AliasTable, name_key
from serasan.reference.provinces import SHIPPED, current_region, name_index
from serasan.reference.versions import parent_of

if TYPE_CHECKING:
    from serasan.config.catalog import Dataset

ALIASES_FILE = "aliases.yaml"
SCHEMES = ("kemendagri", "bps", "name")


class AliasEntry(BaseModel):
    """One entry of catalog/aliases.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alias: str = Field(min_length=1)
    kode: str = Field(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
    nama: str = Field(min_length=1)  # the code's current Kemendagri name, for the reviewer
    catatan: str | None = None  # where the spelling was seen


def _shown(path: Path) -> str:
    """How messages name the alias file: `catalog/aliases.yaml`, never the server's full path
    (the messages reach OPD staff)."""
    return f"{path.parent.name}/{path.name}"


def parse_aliases(data: Any, path: Path) -> tuple[AliasTable, list[str]]:
    """The alias table of catalog/aliases.yaml's content, and every problem found in it."""
    problems: list[str] = []
    if data is None:
        return AliasTable((), _shown(path)), problems
    if not isinstance(data, list):
        return AliasTable((), _shown(path)), [f"{path}: expected a list of aliases"]
    aliases: list[Alias] = []
    seen: dict[tuple[str, str | None, str], list[str]] = defaultdict(list)
    for i, item in enumerate(data):
        try:
            entry = AliasEntry.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "(entry)"
                problems.append(f"{path}: [{i}].{where}: {err['msg']}")
            continue
        problems += _check_alias(entry, i, path)
        key = name_key(entry.alias)
        if not key:
            problems.append(f"{path}: [{i}].alias: {entry.alias!r} has no letters or digits")
            continue
        scope = (key, parent_of(entry.kode), str(len(entry.kode)))
        if entry.kode in seen[scope]:
            problems.append(f"{path}: [{i}].alias: {entry.alias!r} -> {entry.kode} is listed twice")
        elif seen[scope]:
            problems.append(
                f"{path}: [{i}].alias: {entry.alias!r} already means {seen[scope][0]} under "
                f"{parent_of(entry.kode)}; one spelling cannot mean two regions"
            )
        seen[scope].append(entry.kode)
        aliases.append(Alias(entry.alias, entry.kode, entry.catatan or ""))
    return AliasTable(tuple(aliases), _shown(path)), problems


def _check_alias(entry: AliasEntry, i: int, path: Path) -> list[str]:
    region = current_region(entry.kode)
    if region is None:
        shipped = ", ".join(f"{k} {f.name}" for k, f in SHIPPED.items())
        if entry.kode[:2] not in SHIPPED:
            return [
                f"{path}: [{i}].kode: {entry.kode}: Serasan ships no region codes of province "
                f"{entry.kode[:2]} (shipped: {shipped}; tools/build_reference.py adds one)"
            ]
        return [f"{path}: [{i}].kode: {entry.kode} is not a current Kemendagri code"]
    problems = []
    if name_key(entry.nama) != name_key(region.name):
        problems.append(f"{path}: [{i}].nama: {entry.kode} is {region.name!r}, not {entry.nama!r}")
    parent = parent_of(entry.kode)
    names = name_index(parent, region.level) if parent else None
    if names is not None:
        clash = [r for r in names.by_key(entry.alias) if r.code != entry.kode]
        if clash and not any(r.code == entry.kode for r in names.by_key(entry.alias)):
            other = clash[0]
            problems.append(
                f"{path}: [{i}].alias: {entry.alias!r} is the name of {other.name} "
                f"({other.code}) already; an alias cannot give a real name to another region"
            )
    return problems


def load_aliases(root: Path) -> tuple[AliasTable, list[str]]:
    """catalog/aliases.yaml (none: an empty table) and its problems."""
    import yaml

    path = root / ALIASES_FILE
    if not path.is_file():
        return AliasTable((), _shown(path)), []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError) as exc:
        return AliasTable((), _shown(path)), [f"{path}: cannot be read as YAML: {exc}"]
    return parse_aliases(data, path)


def region_problems(ds: Dataset, path: Path) -> list[str]:
    """The region block's fields: declared columns of the right type, used where they apply."""
    spec = ds.region
    if spec is None:
        return []
    problems: list[str] = []
    where = f"{path}: region"
    region_col = ds.column(spec.column)
    if region_col is not None and region_col.type != "string":
        problems.append(
            f"{where}.column: {spec.column!r} must be of type string (codes keep their dots "
            f"and leading zeros), got {region_col.type}"
        )
    if spec.undotted and spec.scheme != "kemendagri":
        problems.append(
            f"{where}.undotted: only scheme kemendagri has undotted codes (scheme is {spec.scheme})"
        )
    if spec.parent_column is not None and spec.scheme != "name":
        problems.append(
            f"{where}.parent_column: only scheme name looks a region up within a parent column "
            f"(scheme is {spec.scheme})"
        )
    if spec.parent_column is not None and spec.level != "desa_kelurahan":
        problems.append(
            f"{where}.parent_column: the parent column names the kecamatan of a desa/kelurahan; "
            f"a {spec.level} is looked up within the dataset's regency"
        )
    fields = {
        "parent_column": spec.parent_column,
        "name_column": spec.name_column,
        "source_column": spec.source_column,
    }
    used: dict[str, str] = {}
    for field, name in fields.items():
        if name is None:
            continue
        col = ds.column(name)
        if col is None:
            problems.append(f"{where}.{field}: {name!r} is not a declared column")
        elif col.type != "string":
            problems.append(f"{where}.{field}: {name!r} must be of type string, got {col.type}")
        if name == spec.column:
            problems.append(f"{where}.{field}: {name!r} is the region column itself")
        elif name in used:
            problems.append(f"{where}.{field}: {name!r} is also region.{used[name]}")
        used.setdefault(name, field)
    if spec.source_column is not None and spec.source_column in ds.primary_key:
        problems.append(
            f"{where}.source_column: {spec.source_column!r} keeps the file's own value; the key "
            f"holds the resolved code ({spec.column!r})"
        )
    if spec.scheme != "kemendagri" and ds.regency[:2] not in SHIPPED:
        problems.append(
            f"{where}.scheme: Serasan ships no region codes of province {ds.regency[:2]} "
            f"(shipped: {', '.join(SHIPPED)}), so {spec.scheme} values of {ds.regency} "
            "cannot be resolved; tools/build_reference.py adds a province"
        )
    return problems
