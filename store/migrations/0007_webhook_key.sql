-- A WeCom group robot's webhook key, registered by the counsellor
-- (绑定机器人 <key>). It lets anyone holding it post to the group: it is
-- never shown back, only used to send.
ALTER TABLE groups ADD COLUMN webhook_key TEXT NOT NULL DEFAULT '';
