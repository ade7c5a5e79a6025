-- 0007_agent_handoff_urls: an agent's handoff links, shown to the visitor
-- when a conversation is handed to a person: a JSON array of
-- {"label", "url"} objects (at most 5, checked by the core), '[]' for none.

ALTER TABLE messaging_agents ADD COLUMN handoff_urls TEXT NOT NULL DEFAULT '[]';
