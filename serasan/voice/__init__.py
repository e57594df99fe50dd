"""Citizen voice: what reviews, complaints and survey comments say, offline and explainable.

One module a job:

- `records`: the values handed around (a row in, polarities, sentiments and their drivers);
- `text`: normalisation (lower case, slang written out from `data/slang_id.tsv`, elongations
  undone) and Sastrawi stems;
- `lexicon`: the project's own sentiment lexicon (`data/lexicon_id.tsv`) with negation scope,
  intensifiers and contrast;
- `model`: a small scikit-learn model trained on a deployment's own rated reviews, with its
  training record;
- `sentiment`: the choice between the two by measurement, and each row's polarity;
- `measure` and `evaluation`: balanced accuracy, cross-validation, intervals, and the table of
  methods by file;
- `themes`: the theme dictionary of `catalog/themes.yaml`, matched on stems;
- `screen`: spam and exact duplicates, excluded by rule and listed;
- `trends`: counts per month at the resolution the dates allow;
- `quotes`: representative quotes per theme, masked by the caller's masker.

Plain Python: no Airflow, no settings, no downloads. The only data shipped here is what the
project wrote itself (`data/`); no model is shipped: one is trained where it is used.
"""
