"""kpianalysis: reproducible analysis of municipal regional-revitalisation KPIs."""

__version__ = "0.1.0"
