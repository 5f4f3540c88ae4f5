-- A kind for moving credits from a tenant's pool to one of its members. Added in a file of
-- its own: a new enum value cannot be used in the transaction that adds it.

alter type public.credit_kind add value if not exists 'ALLOCATION';
