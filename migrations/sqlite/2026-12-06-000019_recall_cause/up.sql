-- Why a share was recalled (`operator`, `sla_breach`, `out_of_scope`, `contract_withdrawn`,
-- `contract_not_in_force`): the backlog drain leaves a ticket an operator took back in-house
-- alone, and routes the others again. NULL for other states and for recalls made before this
-- column existed.
ALTER TABLE shares ADD COLUMN recall_cause TEXT;
