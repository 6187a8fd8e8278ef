PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO alembic_version VALUES('0008');
CREATE TABLE apscheduler_jobs (
	id VARCHAR(191) NOT NULL, 
	next_run_time FLOAT, 
	job_state BLOB NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO apscheduler_jobs VALUES('poll-close-1',1795483800.0,X'800595c5010000000000007d94288c0776657273696f6e944b018c026964948c0c706f6c6c2d636c6f73652d31948c0466756e63948c1b626f742e7363686564756c65723a72756e5f7363686564756c6564948c0774726967676572948c1961707363686564756c65722e74726967676572732e64617465948c0b44617465547269676765729493942981947d942868014b018c0872756e5f64617465948c086461746574696d65948c086461746574696d65949394430a07ea0b18091e00000000948c086275696c74696e73948c07676574617474729493948c087a6f6e65696e666f948c085a6f6e65496e666f9493948c095f756e7069636b6c6594869452948c0d417369612f5368616e67686169944b01869452948694529475628c086578656375746f72948c0764656661756c74948c0461726773948c2568616e646c6572732e706f6c6c733a636c6f73655f706f6c6c5f61745f646561646c696e65944b0186948c066b7761726773947d948c046e616d65948c0d72756e5f7363686564756c6564948c126d6973666972655f67726163655f74696d65944e8c08636f616c6573636594888c0d6d61785f696e7374616e636573944b018c0d6e6578745f72756e5f74696d6594681e752e');
INSERT INTO apscheduler_jobs VALUES('referral-1-20261224:before7',1797469200.0,X'800595c2010000000000007d94288c0776657273696f6e944b018c026964948c1b726566657272616c2d312d32303236313232343a6265666f726537948c0466756e63948c1b626f742e7363686564756c65723a72756e5f7363686564756c6564948c0774726967676572948c1961707363686564756c65722e74726967676572732e64617465948c0b44617465547269676765729493942981947d942868014b018c0872756e5f64617465948c086461746574696d65948c086461746574696d65949394430a07ea0c1101000000000094680d8c0874696d657a6f6e65949394680d8c0974696d6564656c74619493944b004b004b0087945294859452948694529475628c086578656375746f72948c0764656661756c74948c0461726773948c2868616e646c6572732e726566657272616c733a72656d696e645f61626f75745f726566657272616c944b018c1032303236313232343a6265666f7265379487948c066b7761726773947d948c046e616d65948c0d72756e5f7363686564756c6564948c126d6973666972655f67726163655f74696d65944e8c08636f616c6573636594888c0d6d61785f696e7374616e636573944b018c0d6e6578745f72756e5f74696d6594681a752e');
CREATE TABLE chat_group (
	id INTEGER NOT NULL, 
	platform VARCHAR(16) NOT NULL, 
	conversation_id VARCHAR(128) NOT NULL, 
	title VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (platform, conversation_id)
);
INSERT INTO chat_group VALUES(1,'test','群1','群1','2026-11-24 01:00:00.000000');
CREATE TABLE inbound_event (
	id INTEGER NOT NULL, 
	platform VARCHAR(16) NOT NULL, 
	message_id VARCHAR(128) NOT NULL, 
	conversation_id VARCHAR(128) NOT NULL, 
	sender_id VARCHAR(128) NOT NULL, 
	text TEXT NOT NULL, 
	platform_time DATETIME NOT NULL, 
	received_at DATETIME NOT NULL, 
	command VARCHAR(32), 
	outcome VARCHAR(16) NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (platform, message_id)
);
INSERT INTO inbound_event VALUES(1,'test','m1','群1','id-主持人','/协商 开始 夜市延长营业时间','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000','协商 开始','ok');
INSERT INTO inbound_event VALUES(2,'test','m2','群1','id-张三','/建议 设置降噪屏障','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000','建议','ok');
INSERT INTO inbound_event VALUES(3,'test','m3','群1','id-主持人','/投票 是否支持夜市延长到23点？| 支持 | 反对 截止 30分钟','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000','投票','ok');
INSERT INTO inbound_event VALUES(4,'test','m4','群1','id-李四','/投 1','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000','投','ok');
INSERT INTO inbound_event VALUES(5,'test','m5','群1','id-主持人','/协商 阶段 报送意见','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000','协商 阶段','ok');
INSERT INTO inbound_event VALUES(6,'test','m6','群1','id-秘书','/报送 #1 市民政局 期限 30天','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000','报送','ok');
CREATE TABLE member (
	id INTEGER NOT NULL, 
	platform VARCHAR(16) NOT NULL, 
	user_id VARCHAR(128) NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (platform, user_id)
);
INSERT INTO member VALUES(1,'test','id-主持人','主持人','2026-11-24 01:00:00.000000');
INSERT INTO member VALUES(2,'test','id-张三','张三','2026-11-24 01:00:00.000000');
INSERT INTO member VALUES(3,'test','id-李四','李四','2026-11-24 01:00:00.000000');
INSERT INTO member VALUES(4,'test','id-秘书','秘书','2026-11-24 01:00:00.000000');
CREATE TABLE outbox (
	id INTEGER NOT NULL, 
	platform VARCHAR(16) NOT NULL, 
	conversation_id VARCHAR(128) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	body TEXT NOT NULL, 
	payload JSON NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	not_before DATETIME NOT NULL, 
	attempts INTEGER NOT NULL, 
	last_error VARCHAR(500) NOT NULL, 
	sent_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO outbox VALUES(1,'test','群1','text',replace('协商开始：「夜市延长营业时间」\n主持人：主持人\n发送 /意见 <内容> 发表意见，/建议 <内容> 提出建议，/附议 #编号 支持他人的意见。发送 /帮助 查看全部命令。','\n',char(10)),'{"reply": {}}','sent','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000',0,'','2026-11-24 01:00:00.000000');
INSERT INTO outbox VALUES(2,'test','群1','ack','已记录张三的建议 #1','{"reply": {}, "ack": {"key": "suggestion", "one": "\u5df2\u8bb0\u5f55\u5f20\u4e09\u7684\u5efa\u8bae #1", "unit": "\u6761\u5efa\u8bae", "ref": 1, "prefix": ""}}','sent','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000',0,'','2026-11-24 01:00:00.000000');
INSERT INTO outbox VALUES(3,'test','群1','poll',replace('投票 #1：是否支持夜市延长到23点？（单选，11月24日 09:30 截止）\n1. 支持\n2. 反对\n发送 /投 <序号> 投票，如 /投 1；可改投，以最后一次为准。','\n',char(10)),'{"key": "poll:1", "poll_id": 1, "reply": {}}','sent','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000',0,'','2026-11-24 01:00:01.500000');
INSERT INTO outbox VALUES(4,'test','群1','poll_tally','','{"key": "poll:1", "poll_id": 1}','sent','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000',0,'','2026-11-24 01:00:01.500000');
INSERT INTO outbox VALUES(5,'test','群1','ack','投票 #1：已记录李四的选票','{"reply": {}, "ack": {"key": "vote:1", "one": "\u6295\u7968 #1\uff1a\u5df2\u8bb0\u5f55\u674e\u56db\u7684\u9009\u7968", "unit": "\u5f20\u9009\u7968", "ref": null, "prefix": "\u6295\u7968 #1\uff1a"}}','sent','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000',0,'','2026-11-24 01:00:01.500000');
INSERT INTO outbox VALUES(6,'test','群1','text',replace('协商「夜市延长营业时间」进入第 5 步「报送意见」（主持人，11月24日 09:00）。\n本阶段可用：\n/报送 #编号… <主办单位> [协办 <单位、单位>] [期限 30天]　把意见建议报送部门办理，并生成报送函（秘书）\n/纪要　生成会议纪要（每次保存为新版本）（秘书）','\n',char(10)),'{"reply": {}}','sent','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000',0,'','2026-11-24 01:00:01.500000');
INSERT INTO outbox VALUES(7,'test','群1','text','报送 #1：#1 已报送市民政局，请于 12月24日 前答复。','{"reply": {}}','sent','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000',0,'','2026-11-24 01:00:01.500000');
INSERT INTO outbox VALUES(8,'test','群1','markdown',replace('协商报送〔2026〕1号\n\n## 关于报送「夜市延长营业时间」协商意见建议的函\n\n市民政局：\n\n2026年11月24日，委员们在「群1」就「夜市延长营业时间」开展协商。现将其中 1 条意见建议转请贵单位研究办理，请于2026年12月24日前答复。\n\n**一、建议**\n\n（一）#1 设置降噪屏障（提出：张三）\n\n答复时请注明办理结果分类（A 已解决、B 正在解决、C 列入计划、未采纳），由部门联络员在协商群内发送「/反馈 #1 分类 答复内容」，或交协商秘书代为录入。\n\n协商助手（群1）\n2026年11月24日','\n',char(10)),'{"reply": {}}','sent','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000',0,'','2026-11-24 01:00:01.500000');
INSERT INTO outbox VALUES(9,'test','群1','text','秘书：报送函已生成；公文版（Word）可在协商助手后台本场协商的页面下载（命令行：xieshang letter 1）。','{"reply": {}, "mentions": ["id-\u79d8\u4e66"]}','sent','2026-11-24 01:00:00.000000','2026-11-24 01:00:00.000000',0,'','2026-11-24 01:00:01.500000');
CREATE TABLE consultation (
	id INTEGER NOT NULL, 
	group_id INTEGER NOT NULL, 
	topic VARCHAR(200) NOT NULL, 
	stage VARCHAR(16) NOT NULL, 
	opened_by INTEGER NOT NULL, 
	opened_at DATETIME NOT NULL, 
	closed_at DATETIME, 
	closed_by INTEGER, 
	opinion_seq INTEGER NOT NULL, 
	poll_seq INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(closed_by) REFERENCES member (id), 
	FOREIGN KEY(group_id) REFERENCES chat_group (id), 
	FOREIGN KEY(opened_by) REFERENCES member (id)
);
INSERT INTO consultation VALUES(1,1,'夜市延长营业时间','refer',1,'2026-11-24 01:00:00.000000',NULL,NULL,1,1);
CREATE TABLE member_role (
	id INTEGER NOT NULL, 
	member_id INTEGER NOT NULL, 
	group_id INTEGER NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	granted_by INTEGER, 
	granted_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(granted_by) REFERENCES member (id), 
	FOREIGN KEY(group_id) REFERENCES chat_group (id), 
	FOREIGN KEY(member_id) REFERENCES member (id), 
	UNIQUE (member_id, group_id, role)
);
CREATE TABLE opinion (
	id INTEGER NOT NULL, 
	consultation_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	member_id INTEGER NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	text TEXT NOT NULL, 
	message_id VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	retracted_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(consultation_id) REFERENCES consultation (id), 
	FOREIGN KEY(member_id) REFERENCES member (id), 
	UNIQUE (consultation_id, number)
);
INSERT INTO opinion VALUES(1,1,1,2,'suggestion','设置降噪屏障','m2','2026-11-24 01:00:00.000000',NULL);
CREATE TABLE poll (
	id INTEGER NOT NULL, 
	consultation_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	question VARCHAR(500) NOT NULL, 
	options JSON NOT NULL, 
	multiple BOOLEAN NOT NULL, 
	anonymous BOOLEAN NOT NULL, 
	deadline DATETIME, 
	status VARCHAR(16) NOT NULL, 
	opened_by INTEGER NOT NULL, 
	opened_at DATETIME NOT NULL, 
	closed_at DATETIME, 
	closed_by INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(closed_by) REFERENCES member (id), 
	FOREIGN KEY(consultation_id) REFERENCES consultation (id), 
	FOREIGN KEY(opened_by) REFERENCES member (id), 
	UNIQUE (consultation_id, number)
);
INSERT INTO poll VALUES(1,1,1,'是否支持夜市延长到23点？','["\u652f\u6301", "\u53cd\u5bf9"]',0,0,'2026-11-24 01:30:00.000000','open',1,'2026-11-24 01:00:00.000000',NULL,NULL);
CREATE TABLE stage_change (
	id INTEGER NOT NULL, 
	consultation_id INTEGER NOT NULL, 
	from_stage VARCHAR(16), 
	to_stage VARCHAR(16) NOT NULL, 
	changed_by INTEGER, 
	changed_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(changed_by) REFERENCES member (id), 
	FOREIGN KEY(consultation_id) REFERENCES consultation (id)
);
INSERT INTO stage_change VALUES(1,1,NULL,'consult',1,'2026-11-24 01:00:00.000000');
INSERT INTO stage_change VALUES(2,1,'consult','refer',1,'2026-11-24 01:00:00.000000');
CREATE TABLE ballot (
	id INTEGER NOT NULL, 
	poll_id INTEGER NOT NULL, 
	voter_key VARCHAR(64) NOT NULL, 
	member_id INTEGER, 
	choices JSON NOT NULL, 
	cast_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(member_id) REFERENCES member (id), 
	FOREIGN KEY(poll_id) REFERENCES poll (id), 
	UNIQUE (poll_id, voter_key)
);
INSERT INTO ballot VALUES(1,1,'m3',3,'[1]','2026-11-24 01:00:00.000000');
CREATE TABLE second (
	id INTEGER NOT NULL, 
	opinion_id INTEGER NOT NULL, 
	member_id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(member_id) REFERENCES member (id), 
	FOREIGN KEY(opinion_id) REFERENCES opinion (id), 
	UNIQUE (opinion_id, member_id)
);
CREATE TABLE poll_card (
	id INTEGER NOT NULL, 
	platform VARCHAR(16) NOT NULL, 
	card_id VARCHAR(64) NOT NULL, 
	poll_id INTEGER NOT NULL, 
	conversation_id VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	delivered_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(poll_id) REFERENCES poll (id), 
	UNIQUE (platform, card_id)
);
CREATE TABLE member_profile (
	id INTEGER NOT NULL, 
	platform VARCHAR(16) NOT NULL, 
	user_id VARCHAR(128) NOT NULL, 
	sector VARCHAR(32) NOT NULL, 
	roles JSON NOT NULL, 
	department VARCHAR(64) NOT NULL, 
	title VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (platform, user_id)
);
CREATE TABLE consultation_plan (
	id INTEGER NOT NULL, 
	consultation_id INTEGER NOT NULL, 
	schedule VARCHAR(100) NOT NULL, 
	place VARCHAR(200) NOT NULL, 
	departments JSON NOT NULL, 
	leaders JSON NOT NULL, 
	notes TEXT NOT NULL, 
	recorded_by INTEGER NOT NULL, 
	recorded_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(consultation_id) REFERENCES consultation (id), 
	FOREIGN KEY(recorded_by) REFERENCES member (id), 
	UNIQUE (consultation_id)
);
CREATE TABLE guest_attendance (
	id INTEGER NOT NULL, 
	consultation_id INTEGER NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	department VARCHAR(64) NOT NULL, 
	title VARCHAR(64) NOT NULL, 
	recorded_by INTEGER NOT NULL, 
	recorded_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(consultation_id) REFERENCES consultation (id), 
	FOREIGN KEY(recorded_by) REFERENCES member (id), 
	UNIQUE (consultation_id, name)
);
CREATE TABLE referral (
	id INTEGER NOT NULL, 
	consultation_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	lead_department VARCHAR(64) NOT NULL, 
	co_departments JSON NOT NULL, 
	deadline DATETIME NOT NULL, 
	deadline_set_at DATETIME NOT NULL, 
	referred_by INTEGER NOT NULL, 
	referred_at DATETIME NOT NULL, 
	message_id VARCHAR(128) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(consultation_id) REFERENCES consultation (id), 
	FOREIGN KEY(referred_by) REFERENCES member (id), 
	UNIQUE (consultation_id, number)
);
INSERT INTO referral VALUES(1,1,1,'市民政局','[]','2026-12-24 16:00:00.000000','2026-11-24 01:00:00.000000',4,'2026-11-24 01:00:00.000000','m6');
CREATE TABLE research_note (
	id INTEGER NOT NULL, 
	consultation_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	member_id INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	message_id VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(consultation_id) REFERENCES consultation (id), 
	FOREIGN KEY(member_id) REFERENCES member (id), 
	UNIQUE (consultation_id, number)
);
CREATE TABLE sequence_counter (
	id INTEGER NOT NULL, 
	consultation_id INTEGER NOT NULL, 
	name VARCHAR(16) NOT NULL, 
	value INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(consultation_id) REFERENCES consultation (id), 
	UNIQUE (consultation_id, name)
);
CREATE TABLE topic_proposal (
	id INTEGER NOT NULL, 
	consultation_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	member_id INTEGER NOT NULL, 
	text VARCHAR(200) NOT NULL, 
	text_key VARCHAR(200) NOT NULL, 
	message_id VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(consultation_id) REFERENCES consultation (id), 
	FOREIGN KEY(member_id) REFERENCES member (id), 
	UNIQUE (consultation_id, number), 
	UNIQUE (consultation_id, text_key)
);
CREATE TABLE referral_item (
	id INTEGER NOT NULL, 
	referral_id INTEGER NOT NULL, 
	opinion_id INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(opinion_id) REFERENCES opinion (id), 
	FOREIGN KEY(referral_id) REFERENCES referral (id), 
	UNIQUE (referral_id, opinion_id)
);
INSERT INTO referral_item VALUES(1,1,1);
CREATE TABLE referral_rating (
	id INTEGER NOT NULL, 
	referral_id INTEGER NOT NULL, 
	member_id INTEGER NOT NULL, 
	handling INTEGER NOT NULL, 
	result INTEGER NOT NULL, 
	comment TEXT NOT NULL, 
	rated_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT ck_rating_handling CHECK (handling BETWEEN 1 AND 5), 
	CONSTRAINT ck_rating_result CHECK (result BETWEEN 1 AND 5), 
	FOREIGN KEY(member_id) REFERENCES member (id), 
	FOREIGN KEY(referral_id) REFERENCES referral (id), 
	UNIQUE (referral_id, member_id)
);
CREATE TABLE referral_reminder (
	id INTEGER NOT NULL, 
	referral_id INTEGER NOT NULL, 
	"key" VARCHAR(40) NOT NULL, 
	sent_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(referral_id) REFERENCES referral (id), 
	UNIQUE (referral_id, "key")
);
CREATE TABLE referral_reply (
	id INTEGER NOT NULL, 
	referral_id INTEGER NOT NULL, 
	reply_class VARCHAR(16) NOT NULL, 
	text TEXT NOT NULL, 
	replied_by INTEGER NOT NULL, 
	replied_at DATETIME NOT NULL, 
	on_time BOOLEAN NOT NULL, 
	reopened_at DATETIME, 
	reopened_by INTEGER, 
	reopen_reason TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(referral_id) REFERENCES referral (id), 
	FOREIGN KEY(reopened_by) REFERENCES member (id), 
	FOREIGN KEY(replied_by) REFERENCES member (id)
);
CREATE TABLE topic_poll (
	id INTEGER NOT NULL, 
	poll_id INTEGER NOT NULL, 
	consultation_id INTEGER NOT NULL, 
	proposal_numbers JSON NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(consultation_id) REFERENCES consultation (id), 
	FOREIGN KEY(poll_id) REFERENCES poll (id), 
	UNIQUE (poll_id)
);
CREATE TABLE outbox_channel (
	platform VARCHAR(16) NOT NULL, 
	conversation_id VARCHAR(128) NOT NULL, 
	sent_at JSON NOT NULL, 
	PRIMARY KEY (platform, conversation_id)
);
CREATE TABLE minutes_version (
	id INTEGER NOT NULL, 
	consultation_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	created_by INTEGER, 
	method VARCHAR(16) NOT NULL, 
	markdown TEXT NOT NULL, 
	body TEXT NOT NULL, 
	docx BLOB NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(consultation_id) REFERENCES consultation (id), 
	FOREIGN KEY(created_by) REFERENCES member (id), 
	UNIQUE (consultation_id, number)
);
CREATE TABLE minutes_request (
	id INTEGER NOT NULL, 
	consultation_id INTEGER NOT NULL, 
	platform VARCHAR(16) NOT NULL, 
	conversation_id VARCHAR(128) NOT NULL, 
	requested_by INTEGER NOT NULL, 
	reply JSON NOT NULL, 
	requested_at DATETIME NOT NULL, 
	claimed_at DATETIME, 
	done_at DATETIME, 
	version_id INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(consultation_id) REFERENCES consultation (id), 
	FOREIGN KEY(requested_by) REFERENCES member (id), 
	FOREIGN KEY(version_id) REFERENCES minutes_version (id)
);
CREATE TABLE stance (
	id INTEGER NOT NULL, 
	opinion_id INTEGER NOT NULL, 
	member_id INTEGER NOT NULL, 
	value INTEGER NOT NULL, 
	cast_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(member_id) REFERENCES member (id), 
	FOREIGN KEY(opinion_id) REFERENCES opinion (id), 
	UNIQUE (opinion_id, member_id)
);
CREATE TABLE statement_vector (
	id INTEGER NOT NULL, 
	opinion_id INTEGER NOT NULL, 
	model VARCHAR(64) NOT NULL, 
	vector BLOB NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(opinion_id) REFERENCES opinion (id), 
	UNIQUE (opinion_id, model)
);
CREATE TABLE console_user (
	id INTEGER NOT NULL, 
	name VARCHAR(32) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name), 
	UNIQUE (token_hash)
);
CREATE TABLE group_counter (
	id INTEGER NOT NULL, 
	group_id INTEGER NOT NULL, 
	name VARCHAR(16) NOT NULL, 
	value INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(group_id) REFERENCES chat_group (id), 
	UNIQUE (group_id, name)
);
INSERT INTO group_counter VALUES(1,1,'referral',1);
CREATE INDEX ix_apscheduler_jobs_next_run_time ON apscheduler_jobs (next_run_time);
CREATE INDEX ix_consultation_group_id ON consultation (group_id);
CREATE UNIQUE INDEX uq_consultation_open_group ON consultation (group_id) WHERE closed_at IS NULL;
CREATE INDEX ix_opinion_member_id ON opinion (member_id);
CREATE INDEX ix_poll_consultation_status ON poll (consultation_id, status);
CREATE INDEX ix_stage_change_consultation_id ON stage_change (consultation_id);
CREATE INDEX ix_outbox_pending_kind ON outbox (platform, conversation_id, kind, id) WHERE status = 'pending';
CREATE INDEX ix_poll_card_poll_id ON poll_card (poll_id);
CREATE INDEX ix_referral_consultation_id ON referral (consultation_id);
CREATE INDEX ix_referral_deadline ON referral (deadline);
CREATE INDEX ix_referral_reply_referral_id ON referral_reply (referral_id);
CREATE UNIQUE INDEX uq_referral_reply_standing ON referral_reply (referral_id) WHERE reopened_at IS NULL;
CREATE INDEX ix_minutes_request_pending ON minutes_request (id) WHERE done_at IS NULL;
COMMIT;
