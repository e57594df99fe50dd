"""core.dim_region with the code history, ref.bps_kemendagri carried to current codes.

Revision ID: 0011
Revises: 0010

`serasan.warehouse.db.seed` now fills ref.region, core.dim_region and ref.bps_kemendagri from the
shipped reference package (`serasan.reference`, every province of `provinces.SHIPPED`) instead
of `warehouse/seed/`. Dates are January 1 of a version's year (`versions.VERSIONS`; the
versions carry no day): 2016-01-01 for Permendagri 56/2015 ... 2025-01-01 for Kepmendagri
300.2.2-2430/2025.

core.dim_region, one row per code and meaning:

* a current code: valid_from 2025-01-01 (the package ships only the current version, so it
  cannot say since when a current code exists), valid_to NULL;
* a code the history retired (renumbered, ambiguous, removed): its old name, its old parent,
  valid_from 2016-01-01 (the oldest version, where the history starts; a code given up, given
  to another place and retired again starts at the version before its second retirement),
  valid_to the date of the version that retired it (exclusive). The 2016 start is where the
  history begins, not proven by the package (it ships no older versions);
  tests/integration/test_region_seed.py checks it against ../shared/reference.

So a point-in-time join finds a retired code for data of its years, and its kode_pengganti;
its replacement's row starts in 2025 (for 2020-2024 data coded with the new code, join on the
current rows, or resolve with `serasan.reference`). Reseeding replaces every row with a
valid_from up to 2025-01-01 and keeps a valid_to a later decree set on a current code, and the
rows of later decrees.

New columns:

* `kode_pengganti`: on a retired code, the current code(s) it became: one code when
  renumbered, the `;`-separated candidates when ambiguous (never a guess), NULL when removed
  without successor and on current codes;
* `perubahan`: renumbered | ambiguous | removed on a retired code, area_changed on a current
  code whose area changed, NULL on a code that never changed;
* `regulasi`: the regulation of that change (the one that retired the code, or the latest one
  that changed its area);
* `area_changed_at` and `area_changed_into`: the code stayed but its area changed (16.03.03
  Rambang Dangku -> Rambang Niru, 16.03.26 split off in 2020): `area_changed_at` is the date
  of the latest version that changed it, `area_changed_into` the `;`-separated current codes
  that now hold its former area (itself included; only itself when it received area). A value
  for a period before `area_changed_at` is for another area than the code covers now: a time
  series that has periods on both sides of it (`MIN(period) < area_changed_at <= MAX(period)`)
  must be flagged, not compared as is. Two periods both before it may still straddle an
  earlier change; the column keeps only the latest (conservative: treat them as not
  comparable either). On a retired code the two columns record an area change before it was
  retired.

ref.bps_kemendagri: `kode_kemendagri` is the current code and may now be NULL (status
ambiguous or unmatched: the BPS code is known, no single current code is); `status` is
unchanged | moved | ambiguous | unmatched; `kode_kemendagri_sumber` the (stale, 2018 version)
Kemendagri code the source crosswalk gave; `kandidat` the `;`-separated current codes of an
ambiguous entry. Joins on kode_kemendagri simply leave the NULL rows out.
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import locate

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    schema, table = locate("core", "dim_region", dialect)
    with op.batch_alter_table(table, schema=schema) as batch:
        batch.add_column(sa.Column("kode_pengganti", sa.Text))
        batch.add_column(sa.Column("perubahan", sa.String(20)))
        batch.add_column(sa.Column("regulasi", sa.String(120)))
        batch.add_column(sa.Column("area_changed_at", sa.Date))
        batch.add_column(sa.Column("area_changed_into", sa.Text))
    schema, table = locate("ref", "bps_kemendagri", dialect)
    with op.batch_alter_table(table, schema=schema) as batch:
        batch.alter_column("kode_kemendagri", existing_type=sa.String(20), nullable=True)
        batch.add_column(sa.Column("kode_kemendagri_sumber", sa.String(20)))
        batch.add_column(sa.Column("status", sa.String(20)))
        batch.add_column(sa.Column("kandidat", sa.Text))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    schema, table = locate("ref", "bps_kemendagri", dialect)
    # NOT NULL again: the entries without a current code go (0006's seed left them out too)
    xwalk = sa.table(table, sa.column("kode_kemendagri"), schema=schema)
    op.execute(xwalk.delete().where(xwalk.c.kode_kemendagri.is_(None)))
    with op.batch_alter_table(table, schema=schema) as batch:
        batch.drop_column("kandidat")
        batch.drop_column("status")
        batch.drop_column("kode_kemendagri_sumber")
        batch.alter_column("kode_kemendagri", existing_type=sa.String(20), nullable=False)
    schema, table = locate("core", "dim_region", dialect)
    with op.batch_alter_table(table, schema=schema) as batch:
        for column in (
            "area_changed_into",
            "area_changed_at",
            "regulasi",
            "perubahan",
            "kode_pengganti",
        ):
            batch.drop_column(column)
