"""The smart-city evaluation pack: one regency, one year, the evidence an assessor asks for.

`serasan evaluation --regency SLUG [--year YYYY]` and the yearly DAG build it into the lake
(`reports/<slug>/evaluasi/<year>/`): one self-contained HTML document in Bahasa Indonesia, the
same printed to PDF by headless Chromium, and a ZIP evidence bundle (the PDF, the CSV behind
every chart and table, a manifest with every file's sha256). One module a job:

- `period`: the evaluated year and its window of days (partial before the year ends);
- `evidence`: KPIs, lineage, data quality and Satu Data compliance from the warehouse;
- `citizen`: the programmes' citizen voice from their voice datasets;
- `voice`: the one adapter to `serasan.voice` (sentiment, words, themes, duplicates, quotes);
- `html`: the document; `tables`: its CSVs; `pdf`: the printing; `bundle`: the ZIP and manifest;
- `pack`: building it and writing it to the lake only when its content changed;
- `options`: the Chromium it prints with (SERASAN_CHROMIUM); the minimum of reviews for a
  share is Serasan's `voice_min_reviews` setting (SERASAN_VOICE_MIN_REVIEWS).
"""
