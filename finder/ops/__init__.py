"""What an operator running several instances needs: health probes for the proxy, metrics, backups.

`readiness.py` (is this instance fit for traffic) and `backup.py` never import Flask; `views.py` serves
/livez and /readyz.
"""
