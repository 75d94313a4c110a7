-- How testdata/pgoutput_values.jsonl was captured (PostgreSQL 15.18,
-- wal_level=logical, UTF8): run this with Cairn's session settings, then
-- read pg_logical_slot_peek_binary_changes('s', NULL, NULL, 'proto_version',
-- '1', 'publication_names', 'p') in a session with the same settings, parse
-- the messages with pglogrepl and write one line per text column value:
-- column, format_type of the column type, type OID, pgoutput text.
SET DateStyle='ISO, MDY'; SET TimeZone='UTC'; SET IntervalStyle='postgres'; SET extra_float_digits=1; SET bytea_output='hex';
CREATE EXTENSION citext; CREATE EXTENSION hstore;
CREATE TYPE mood AS ENUM ('sad','ok','happy, "really"');
CREATE TYPE pair AS (a int, b text);
CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN posint2 AS posint;
CREATE DOMAIN intarr AS int[];
CREATE DOMAIN boxd AS box;
CREATE TABLE t (
 id serial primary key,
 i2 int2, i4 int4, i8 int8, o oid, x xid, f4 float4, f8 float8, n numeric, b bool,
 tx text, vc varchar(10), bc char(5), nm name, ch "char", ci citext, xm xml, by bytea,
 u uuid, ip inet, cr cidr, mac macaddr, mac8 macaddr8, mo money, bt bit(4), vb varbit,
 d date, tm time, tmz timetz, ts timestamp, tstz timestamptz, iv interval,
 tsv tsvector, tsq tsquery, pt point, ln line, ls lseg, bx box, pa path, pg polygon, ci2 circle,
 lsn pg_lsn, r int4range, mr int4multirange, e mood, j json, jb jsonb,
 ai int4[], at text[], abx box[], af float8[], an numeric[], ab bool[], aby bytea[], abc char(3)[],
 dom posint, dom2 posint2, domarr intarr, ae mood[], comp pair, acomp pair[], hs hstore, adomarr intarr[], aboxd boxd[],
 i2v int2vector, ts2 tsrange, ajb jsonb[], ats timestamptz[], adom posint[]
);
ALTER TABLE t REPLICA IDENTITY FULL;
CREATE PUBLICATION p FOR TABLE t;
SELECT pg_create_logical_replication_slot('s', 'pgoutput');
INSERT INTO t (i2,i4,i8,o,x,f4,f8,n,b,tx,vc,bc,nm,ch,ci,xm,by,u,ip,cr,mac,mac8,mo,bt,vb,d,tm,tmz,ts,tstz,iv,tsv,tsq,pt,ln,ls,bx,pa,pg,ci2,lsn,r,mr,e,j,jb,
 ai,at,abx,af,an,ab,aby,abc,dom,dom2,domarr,ae,comp,acomp,hs,adomarr,aboxd,i2v,ts2,ajb,ats,adom) VALUES
(-32768, 2147483647, -9223372036854775808, 4294967295, '12345', 1.5, -0.0::float8, 123456789012345678901234567890.123456789012345678901234567890, true,
 E'quote" back\\ nl\n tab\t bell\x07 esc\x1b del\x7f ü € 😀 \u2028 <&>', 'abc', 'ab', 'nm', 'x', 'MiXeD', '<a x="1">t</a>', '\x00ff10',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', 12.34, B'1010', B'101',
 '2024-02-29', '13:14:15.123456', '13:14:15+02', '2024-02-29 13:14:15.5', '2024-02-29 13:14:15.5+05:30', '1 year 2 mons 3 days 04:05:06.7',
 'a fat cat', 'fat & !rat', '(1,2)', '{1,2,3}', '[(1,2),(3,4)]', '(3,4),(1,2)', '[(0,0),(1,1)]', '((0,0),(1,1),(1,0))', '<(1,2),3>',
 '16/B374D848', '[1,10)', '{[1,3),[5,7)}', 'happy, "really"', '{"a": [1, 2.50]}', '{"b": 1, "a": "x"}',
 '{{1,2},{3,4}}', ARRAY['a,b','c"d',NULL,'NULL','','with space','back\slash','{}',E'tab\there', 'null', E'vt\x0bx'], ARRAY['(1,1),(0,0)'::box,'(3,3),(2,2)'], ARRAY['NaN','Infinity','-Infinity',1e100,-0.0,1.5e-7]::float8[], ARRAY['NaN',1.10,NULL]::numeric[], '{t,f,NULL}', ARRAY['\x00'::bytea, '\x'::bytea], ARRAY['a','bc ']::char(3)[],
 42, 7, '{5,6}', '{sad,"happy, \"really\""}', ROW(1,'a b'), ARRAY[ROW(1,'x,y'),ROW(NULL,NULL)]::pair[], 'a=>1, "b c"=>NULL',
 '{"{1,2}","{3}",NULL}', ARRAY['(1,1),(0,0)'::boxd], '1 2 3', '[2024-01-01,2024-01-02)', ARRAY['{"k": "v w"}'::jsonb, '1'], ARRAY['2024-01-01 00:00:00+00'::timestamptz], '{1,2}'),
(0, 0, 0, 0, '0', 'NaN', 1e100, 'NaN', false, '', '', '', '', E'\\351', '', '', '\x',
 NULL, '::1', '::/0', NULL, NULL, -1, B'0000', B'', '-infinity', '00:00', '00:00+00', 'infinity', '-infinity', '-1 days -00:00:01',
 '', 'a', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '0/0', 'empty', '{}', 'sad', '[]', '[]',
 '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', 1, 1, '{}', '{}', ROW(NULL,NULL), '{}', '', '{}', '{}', '', 'empty', '{}', '{}', '{}'),
(1, 1, 1, 1, '1', '-Infinity', 'Infinity', '-Infinity', NULL, repeat('x', 5000), NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, '[0:1]={7,8}', '[2:2][1:1]={{x}}', NULL, ARRAY[1.2345678901234567e-300, 3.4e38::float4]::float8[], NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO t (f4, f8, tx) VALUES (3.4028235e38, 5e-324, 'x'), (1.1, 0.1, 'y'), (-1.5e-10, 123456789012345680000, 'z'), (1, 100, 'w');
UPDATE t SET i4 = i4 WHERE id = 3;
