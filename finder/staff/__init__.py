"""Staff: who a staff member is (`account.Account`) and what each role may do (`permissions`). No Flask here."""
