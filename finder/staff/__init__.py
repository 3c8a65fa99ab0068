"""Staff: who a staff member is (`account.Account`) and what each role may do (`permissions`); accounts and
sign-in (`accounts`, `sessions`); officers' edits (`editing`), their review (`review`) and history (`history`),
what the police.uk sync writes into that history (`sync_changes`), the weekly digest; and the /admin
blueprint (`views/`). Only `views/` imports Flask."""
