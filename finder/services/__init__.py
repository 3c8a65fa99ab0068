"""What the finder does, apart from the web: lookups, teams, editing, sync, accounts."""
