-- One role and database per service (development passwords; production uses secrets).
CREATE ROLE intake LOGIN CREATEDB PASSWORD 'intake';
CREATE DATABASE intake OWNER intake;
CREATE ROLE dispatch LOGIN CREATEDB PASSWORD 'dispatch';
CREATE DATABASE dispatch OWNER dispatch;
CREATE ROLE billing LOGIN CREATEDB PASSWORD 'billing';
CREATE DATABASE billing OWNER billing;
CREATE ROLE survey LOGIN CREATEDB PASSWORD 'survey';
CREATE DATABASE survey OWNER survey;
CREATE ROLE notify LOGIN CREATEDB PASSWORD 'notify';
CREATE DATABASE notify OWNER notify;
CREATE ROLE insight LOGIN CREATEDB PASSWORD 'insight';
CREATE DATABASE insight OWNER insight;
