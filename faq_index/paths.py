"""Default locations, relative to the project root (the CLI's working directory)."""

DEFAULT_KB_DIR = "data/faq"
DEFAULT_INDEX_DIR = "build/faq_index"
DEFAULT_ENCODERS_DIR = "build/faq_encoders"
# Customer-style questions the build chooses its thresholds on (faq_index/customers.py).
DEFAULT_CALIBRATION_DIR = "tests/data/customer_questions"
