"""Integration tier: PostgreSQL, S3, SMTP, MariaDB, loopback HTTP and Airflow runs."""
