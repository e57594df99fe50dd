"""An export says which of its region codes changed area after its period.

16.03.03 was Rambang Dangku until 2018; 16.03.26 split off from it in 2020 (Permendagri
72/2019). Muara Enim's 2018 rubber production of 16.03.03 covers more land than its 2022 figure
under the same code: the 2018 export's metadata says so (`wilayah_berubah`), the 2022 one has
nothing to say.
"""

from __future__ import annotations

from serasan.config.catalog import Catalog
from serasan.publish import satudata
from serasan.publish.exports import _areas_changed, layout

DS = "muaraenim_produksi_karet"  # region: kode_kecamatan, kecamatan


def test_a_2018_export_flags_the_code_whose_area_changed(catalog: Catalog) -> None:
    ds = catalog.dataset(DS)
    rows = [{"kode_kecamatan": "16.03.03"}, {"kode_kecamatan": "16.03.02"}]  # 16.03.02: unchanged
    [flag] = _areas_changed(ds, "2018", rows)
    assert flag["kode"] == "16.03.03"
    assert "16.03.26" in flag["keterangan"] and "2020" in flag["keterangan"]
    assert _areas_changed(ds, "2022", rows) == []

    doc = satudata.satu_data_metadata(
        catalog, ds, "2018", layout(ds, pseudonyms=False), 2, {}, [flag]
    )
    assert doc["wilayah_berubah"] == [flag]
    plain = satudata.satu_data_metadata(catalog, ds, "2022", layout(ds, pseudonyms=False), 2, {})
    assert "wilayah_berubah" not in plain
