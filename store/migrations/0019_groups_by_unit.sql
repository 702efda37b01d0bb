-- Reach since the campaign began walks each unit's groups in turn, so that
-- people are told apart unit by unit rather than in one large sort.
CREATE INDEX groups_org_unit ON groups(org_unit_id);
