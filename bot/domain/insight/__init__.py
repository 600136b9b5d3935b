"""What the records tell the business.

- metrics.py: the product's metrics from raw records (pure, definitions in docs/metrics.md);
- source.py: reads the rows for a date range (and channel) from the database;
- report.py: `python -m bot report --since ... --until ... --format text|json|csv`.
"""
