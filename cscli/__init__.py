"""cscli: customer-service KPIs from ticket, call and survey exports."""

__version__ = "0.1.0"
