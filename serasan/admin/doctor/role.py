"""The PostgreSQL role the warehouse is used as: may it write meta and core, may it upgrade."""

from __future__ import annotations

from typing import Any

from serasan.admin.doctor.report import Check


def role_check(conn: Any, where: str) -> Check:
    from sqlalchemy import text

    from serasan.warehouse.roles import LOADER, LOADER_READ_ONLY, OWNER, READER

    user, superuser = conn.execute(
        text("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
    ).one()
    groups = [
        r
        for r in (OWNER, LOADER, READER)
        if conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :r) "
                "AND pg_has_role(current_user, :r, 'MEMBER')"
            ),
            {"r": r},
        ).scalar()
    ]
    blocked = conn.execute(
        text(
            "SELECT n.nspname, c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('meta', 'core') AND c.relkind IN ('r', 'p') "
            "AND NOT (has_schema_privilege(n.oid, 'USAGE') "
            "AND has_table_privilege(c.oid, 'INSERT') AND has_table_privilege(c.oid, 'UPDATE') "
            "AND has_table_privilege(c.oid, 'DELETE')) ORDER BY 1, 2"
        )
    ).all()
    blocked = [f"{s}.{t}" for s, t in blocked if (s, t) not in LOADER_READ_ONLY]
    upgrades = bool(superuser) or OWNER in groups
    who = (
        f"{user} (superuser)"
        if superuser
        else f"{user} (member of {', '.join(groups)})"
        if groups
        else f"{user} (member of no serasan role)"
    )
    info = {
        "user": user,
        "superuser": bool(superuser),
        "member_of": groups,
        "cannot_write": blocked,
        "can_upgrade": upgrades,
    }
    if blocked:
        schemas = sorted({b.split(".")[0] for b in blocked})
        return Check(
            "warehouse role",
            "fail",
            f"{where}: connected as {who}, which may not "
            f"write {len(blocked)} table(s) in {' and '.join(schemas)} (e.g. "
            f"{blocked[0]}): the DAGs need a login in {LOADER} (GRANT {LOADER} TO "
            f"{user})",
            info,
        )
    can = f"may write meta and core{', and may upgrade' if upgrades else ''}"
    if superuser:
        return Check(
            "warehouse role",
            "warn",
            f"{where}: connected as {who}: it {can}, but the "
            f"DAGs should log in as a member of {LOADER} (least privilege)",
            info,
        )
    return Check("warehouse role", "ok", f"{where}: connected as {who}: it {can}", info)
