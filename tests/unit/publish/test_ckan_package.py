"""CKAN's rules the publisher applies before any HTTP: package names, licence ids, tags, and
which portal the settings configure. Publishing itself, against the loopback portal, is in
tests/integration/test_ckan.py."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from serasan.config.settings import Settings
from serasan.publish.ckan import (
    CkanConfigError,
    clean_tag,
    configured_portal,
    license_id,
    package_slug,
    validate_package_name,
)
from tests.support.fake_ckan import TOKEN


@pytest.mark.parametrize(
    ("dataset_id", "slug"),
    [
        ("muba_kelompok_tani_karet", "muba-kelompok-tani-karet"),
        ("muaraenim_produksi_karet", "muaraenim-produksi-karet"),
        ("ab", "ab"),
        ("x" * 100, "x" * 100),
    ],
)
def test_slug_from_dataset_id(dataset_id: str, slug: str) -> None:
    assert package_slug(dataset_id) == slug


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("a", "2-100 characters"),
        ("", "2-100 characters"),
        ("x" * 101, "2-100 characters"),
        ("muba karet", "lowercase a-z"),
        ("muba.karet", "lowercase a-z"),
        ("muba/karet", "lowercase a-z"),
        ("karet-ñ", "lowercase a-z"),
        ("new", "reserved"),
    ],
)
def test_invalid_package_names_are_refused(name: str, why: str) -> None:
    with pytest.raises(CkanConfigError, match=why):
        validate_package_name(name)
    with pytest.raises(CkanConfigError):
        package_slug(name)


@pytest.mark.parametrize(
    ("lisensi", "expected"),
    [
        ("CC-BY-4.0", "cc-by"),
        ("cc by 4.0", "cc-by"),
        ("CC-BY-SA-4.0", "cc-by-sa"),
        ("CC0-1.0", "cc-zero"),
        ("CC-BY-NC-4.0", "cc-nc"),
        ("ODbL-1.0", "odc-odbl"),
        ("ODC-BY-1.0", "odc-by"),
        ("PDDL-1.0", "odc-pddl"),
        ("OGL-UK-3.0", "uk-ogl"),
    ],
)
def test_licences_map_to_ckan_ids(lisensi: str, expected: str) -> None:
    assert license_id(lisensi) == expected


def test_unknown_licence_is_kept_sanitised_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="serasan.publish.ckan"):
        assert license_id("Lisensi Pemkab / Terbuka!") == "lisensi-pemkab-terbuka"
    assert "Lisensi Pemkab / Terbuka!" in caplog.text


def test_tags_follow_ckan_rules() -> None:
    assert clean_tag("kelompok tani") == "kelompok tani"
    assert clean_tag("Sungai/Musi!  Banyuasin") == "Sungai Musi Banyuasin"
    assert clean_tag("karet_kering-v1.2") == "karet_kering-v1.2"
    assert clean_tag("x") is None and clean_tag("!!") is None
    assert clean_tag("t" * 150) == "t" * 100


def test_configured_portal() -> None:
    base = Settings(lake_url="lake", warehouse_url="sqlite://")
    assert configured_portal(base) is None
    with pytest.raises(CkanConfigError, match="SERASAN_CKAN_TOKEN") as err:
        configured_portal(dataclasses.replace(base, ckan_url="https://data.example.id"))
    assert TOKEN not in str(err.value)
    both = dataclasses.replace(base, ckan_url="https://data.example.id", ckan_token=TOKEN)
    assert configured_portal(both) == ("https://data.example.id", TOKEN)
