"""Every Serasan DAG id, built in one place: the DAG file, the CLI, the demo and the tests agree.

The ids are also stored (`meta.load_run.dag_id`) and shown in Airflow's UI, so they never change.
"""

from __future__ import annotations

PREFIX = "serasan__"

ALERTS = "serasan__alerts"  # lateness, digests, the outbox drained (dags/serasan_alerts.py)
BACKUP = "serasan__backup"  # the warehouse and the lake backed up (dags/serasan_alerts.py)
RETENTION = "serasan__retention"  # personal data deleted when due (dags/serasan_dags.py)
SINGLETONS = (ALERTS, RETENTION, BACKUP)


def dataset_dag_id(dataset_id: str) -> str:
    """One dataset's DAG: extract -> parse -> validate -> load -> notify."""
    return f"{PREFIX}{dataset_id}"


def kpi_dag_id(regency_slug: str) -> str:
    """A regency's KPI DAG, scheduled on its datasets' assets."""
    return f"{PREFIX}{regency_slug}__kpi"


def export_dag_id(regency_slug: str) -> str:
    """A regency's Satu Data DAG: export -> publish, scheduled like the KPI DAG."""
    return f"{PREFIX}{regency_slug}__export"


def report_dag_id(regency_slug: str) -> str:
    """A regency's monthly report, scheduled on the KPI asset its KPI DAG updates."""
    return f"{PREFIX}{regency_slug}__report"


def evaluation_dag_id(regency_slug: str) -> str:
    """A regency's yearly smart-city evaluation pack (dags/serasan_evaluation.py)."""
    return f"{PREFIX}{regency_slug}__evaluation"


def regency_dag_ids(regency_slug: str) -> tuple[str, str, str]:
    """The KPI, export and report DAGs of a regency, in an order they may run one after another
    (the report after the KPIs it reads)."""
    return kpi_dag_id(regency_slug), export_dag_id(regency_slug), report_dag_id(regency_slug)


def dataset_of(dag_id: str) -> str | None:
    """The dataset id of a dataset DAG's id; None for any other DAG."""
    if not dag_id.startswith(PREFIX) or dag_id in SINGLETONS:
        return None
    rest = dag_id.removeprefix(PREFIX)
    return None if "__" in rest else rest
