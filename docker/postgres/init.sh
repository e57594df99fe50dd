#!/usr/bin/env bash
# Databases and roles for the stack, run by the postgres image on its first start
# (/docker-entrypoint-initdb.d/) and safe to run again (every step checks first, and passwords
# are reset to the environment's), inside the container or against any PostgreSQL 15 server:
#
#   docker compose exec postgres bash /docker-entrypoint-initdb.d/10-serasan.sh
#   PGHOST=db.example PGUSER=postgres POSTGRES_USER=postgres ... bash docker/postgres/init.sh
#
# It creates:
#   - the Airflow metadata database, owned by its own LOGIN user;
#   - the warehouse database, owned by the group role serasan_owner;
#   - the three NOLOGIN group roles of warehouse/roles.py (serasan_owner, serasan_loader,
#     serasan_reader) and one LOGIN user in each: the admin runs `serasan warehouse upgrade`,
#     the DAGs connect as the ETL user, BI tools as the BI user. The grants inside the warehouse
#     (schemas, tables, default privileges) are made by `serasan warehouse upgrade`, not here.
#
# Passwords come from the environment only, and reach psql as variables quoted with :'name'.
# Use URL-safe passwords (letters and digits, e.g. `openssl rand -hex 24`): they are also
# written into connection URLs.
set -euo pipefail

# The group roles: exactly the names of warehouse/roles.py (a test compares them).
OWNER_ROLE=serasan_owner
LOADER_ROLE=serasan_loader
READER_ROLE=serasan_reader

AIRFLOW_DB="${AIRFLOW_DB:-airflow}"
AIRFLOW_DB_USER="${AIRFLOW_DB_USER:-airflow}"
WAREHOUSE_DB="${WAREHOUSE_DB:-serasan}"
WAREHOUSE_ADMIN_USER="${WAREHOUSE_ADMIN_USER:-serasan_admin}"
WAREHOUSE_ETL_USER="${WAREHOUSE_ETL_USER:-serasan_etl}"
WAREHOUSE_BI_USER="${WAREHOUSE_BI_USER:-serasan_bi}"

problems=()
for var in AIRFLOW_DB_PASSWORD WAREHOUSE_ADMIN_PASSWORD WAREHOUSE_ETL_PASSWORD \
           WAREHOUSE_BI_PASSWORD; do
  value="${!var:-}"
  if [ -z "$value" ]; then
    problems+=("$var is not set")
  elif [ "${#value}" -lt 12 ]; then
    problems+=("$var is shorter than 12 characters")
  elif [[ "$value" == *change-me* ]]; then
    problems+=("$var is still the placeholder of .env.example")
  fi
done
if [ ${#problems[@]} -gt 0 ]; then
  printf 'postgres init: %s\n' "${problems[@]}" >&2
  exit 2
fi

# psql takes the server from PGHOST/PGPORT (unset in the container: the local socket).
psql -v ON_ERROR_STOP=1 -X -q \
  --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v owner_role="$OWNER_ROLE" -v loader_role="$LOADER_ROLE" -v reader_role="$READER_ROLE" \
  -v airflow_db="$AIRFLOW_DB" -v airflow_user="$AIRFLOW_DB_USER" \
  -v airflow_pw="$AIRFLOW_DB_PASSWORD" \
  -v warehouse_db="$WAREHOUSE_DB" \
  -v admin_user="$WAREHOUSE_ADMIN_USER" -v admin_pw="$WAREHOUSE_ADMIN_PASSWORD" \
  -v etl_user="$WAREHOUSE_ETL_USER" -v etl_pw="$WAREHOUSE_ETL_PASSWORD" \
  -v bi_user="$WAREHOUSE_BI_USER" -v bi_pw="$WAREHOUSE_BI_PASSWORD" <<'SQL'
-- Group roles, NOLOGIN as warehouse/roles.py creates them (it leaves existing ones alone).
SELECT format('CREATE ROLE %I NOLOGIN', r)
  FROM unnest(ARRAY[:'owner_role', :'loader_role', :'reader_role']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec

-- LOGIN users: created when missing, password always set to the environment's.
SELECT format('CREATE ROLE %I LOGIN', u)
  FROM unnest(ARRAY[:'airflow_user', :'admin_user', :'etl_user', :'bi_user']) AS u
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = u) \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', u, p)
  FROM (VALUES (:'airflow_user', :'airflow_pw'), (:'admin_user', :'admin_pw'),
               (:'etl_user', :'etl_pw'), (:'bi_user', :'bi_pw')) AS v(u, p) \gexec

-- Each warehouse user in exactly its group (INHERIT: the privileges apply without SET ROLE).
SELECT format('GRANT %I TO %I', g, u)
  FROM (VALUES (:'owner_role', :'admin_user'), (:'loader_role', :'etl_user'),
               (:'reader_role', :'bi_user')) AS v(g, u)
 WHERE NOT pg_has_role(u, g, 'MEMBER') \gexec

-- Databases: Airflow's metadata, owned by its user; the warehouse, owned by the owner role, so
-- the admin may create the layer schemas. Nobody else may connect to either.
SELECT format('CREATE DATABASE %I OWNER %I', :'airflow_db', :'airflow_user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'airflow_db') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'warehouse_db', :'owner_role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'warehouse_db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', d)
  FROM unnest(ARRAY[:'airflow_db', :'warehouse_db']) AS d \gexec
-- the loader stages merges in temporary tables; the reader only connects
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'warehouse_db', :'loader_role')
\gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'warehouse_db', :'reader_role') \gexec
SQL

echo "postgres init: databases $AIRFLOW_DB and $WAREHOUSE_DB;" \
     "users $AIRFLOW_DB_USER, $WAREHOUSE_ADMIN_USER ($OWNER_ROLE)," \
     "$WAREHOUSE_ETL_USER ($LOADER_ROLE), $WAREHOUSE_BI_USER ($READER_ROLE)"
