"""How reachable each ward's team is (`service.py`: the coverage score and map), how often residents look a ward
up (`reach.py`), residents' "no published team" reports (`nudges.py`), and their pages (`views.py`, `admin.py`)."""
