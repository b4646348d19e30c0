"""Operations by area: the only writers of the database.

Every public function takes an `Operation` (session, account, acting user) and
applies the rules once: validation, role and scope, plan gate, audit entry.
"""
