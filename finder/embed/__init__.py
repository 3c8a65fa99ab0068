"""/embed: the finder inside a council's own page (a framable, script-light result; `views.py`)."""
