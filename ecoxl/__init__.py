"""ecoxl: from a work-plan notice to unit forms, collected returns and a scorecard."""

__version__ = "0.1.0"
