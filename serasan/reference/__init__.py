"""Kemendagri region codes across regulation versions: which code a place has now.

`versions` reads one published version (`kode,nama,level`) and names the six regulations;
`history` derives, from consecutive versions, what became of every code that changed;
`resolve` answers for one code (`resolve("16.06.03.2001")`) and rebuilds the BPS crosswalk
against current codes. `provinces` holds the shipped provinces (Sumatera Selatan and Jawa Barat)
and answers for any code by its province; `names` matches region names (prefixes, aliases)
without guessing. The shipped data (`data/`) is rebuilt from ../shared/reference by
`tools/build_reference.py`. Plain Python: no Airflow, no settings.
"""
