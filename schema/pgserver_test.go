package schema

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/fixtures"
)

// pgSessionSettings are the settings capture/postgres pins (see
// docs/formats/row-json.md); with them the output functions print the
// canonical text.
const pgSessionSettings = `SET DateStyle='ISO, MDY'; SET TimeZone='UTC'; SET IntervalStyle='postgres'; SET extra_float_digits=1; SET bytea_output='hex'`

// pgServerValues are queries whose rows are (type, text) pairs printed by
// a real PostgreSQL: thousands of random and edge values of every type
// whose Avro form is re-rendered by the codec (dates, times, timestamps,
// timetz, intervals, floats, numerics).
var pgServerValues = []string{
	`SELECT 'date', format('%s', ('4713-11-24 BC'::date + (random()*2147483000)::int)) FROM generate_series(1, 1500)`,
	`SELECT 'date', format('%s', d) FROM unnest(ARRAY['infinity','-infinity','0001-01-01','0001-12-31 BC','2000-02-29','1900-02-28','5874897-12-31','4713-11-24 BC','9999-12-31','10000-01-01']::date[]) d`,
	`SELECT 'timestamp', format('%s', '4713-11-24 00:00:00 BC'::timestamp + random() * interval '106000000 days') FROM generate_series(1, 1500)`,
	`SELECT 'timestamp', format('%s', ts) FROM unnest(ARRAY['infinity','-infinity','0001-01-01 00:00:00','0001-12-31 23:59:59.999999 BC','2024-02-29 13:14:15.5','2000-01-01 00:00:00.000001','294246-12-31 23:59:59.999999','4713-11-24 00:00:00 BC']::timestamp[]) ts`,
	`SELECT 'timestamptz', format('%s', '4713-11-24 00:00:00+00 BC'::timestamptz + random() * interval '106000000 days') FROM generate_series(1, 1500)`,
	`SELECT 'timestamptz', format('%s', ts) FROM unnest(ARRAY['infinity','-infinity','2024-02-29 13:14:15.5+05:30','0044-03-15 12:00:00+00 BC','1970-01-01 00:00:00+00']::timestamptz[]) ts`,
	`SELECT 'time', format('%s', '00:00'::time + random() * interval '24 hours') FROM generate_series(1, 1000)`,
	`SELECT 'time', format('%s', t) FROM unnest(ARRAY['00:00','24:00','23:59:59.999999','12:00:00.1']::time[]) t`,
	`SELECT 'timetz', format('%s', ('00:00'::time + random() * interval '24 hours')::text || (CASE WHEN random() < 0.5 THEN '+' ELSE '-' END) || to_char(make_interval(secs => floor(random()*57599)), 'HH24:MI:SS'))::timetz FROM generate_series(1, 1000)`,
	`SELECT 'timetz', format('%s', t) FROM unnest(ARRAY['00:00+00','24:00-15:59:59','13:14:15+02','13:14:15.5-03:30','01:02:03+05:45:30']::timetz[]) t`,
	`SELECT 'interval', format('%s', make_interval(years => (random()*200-100)::int, months => (random()*30-15)::int, days => (random()*2000-1000)::int, secs => (random()*2-1)*10^(random()*9))) FROM generate_series(1, 1500)`,
	`SELECT 'interval', format('%s', make_interval(days => (random()*20-10)::int, secs => (random()*2-1)*10^(random()*6))) FROM generate_series(1, 500)`,
	`SELECT 'interval', format('%s', i) FROM unnest(ARRAY['0','1 day','-1 day','1 year -1 mons','-1 days +00:00:01','-1 days -00:00:01','1 mon -1 day','178000000 years','-178000000 years','2562047788:00:54.775807','-2562047788:00:54.775807','00:00:00.000001']::interval[]) i`,
	`SELECT 'float8', format('%s', ((random()*2-1) * 10^(random()*600-300))::float8) FROM generate_series(1, 2000)`,
	`SELECT 'float8', format('%s', ((random()*2-1) * 10^(random()*40-20))::float8) FROM generate_series(1, 2000)`,
	`SELECT 'float8', format('%s', f) FROM unnest(ARRAY['NaN','Infinity','-Infinity','0','-0','1e15','1e14','123456789012345','1234567890123456','0.0001','0.00001','5e-324','1.7976931348623157e308','0.1','100']::float8[]) f`,
	`SELECT 'float4', format('%s', ((random()*2-1) * 10^(random()*70-35))::float4) FROM generate_series(1, 2000)`,
	`SELECT 'float4', format('%s', f) FROM unnest(ARRAY['NaN','Infinity','-Infinity','0','-0','1e6','999999','123456','1234567','0.0001','0.00001','1e-45','3.4028235e38','0.1','1.1']::float4[]) f`,
	`SELECT 'numeric(30,6)', format('%s', round(((random()*2-1) * 10^(random()*24))::numeric, 6)::numeric(30,6)) FROM generate_series(1, 1000)`,
	`SELECT 'numeric(12,2)', format('%s', n) FROM unnest(ARRAY['NaN','0','-0.01','9999999999.99','-9999999999.99','0.10']::numeric(12,2)[]) n`,
	`SELECT 'numeric(5,0)', format('%s', n) FROM unnest(ARRAY['0','-99999','12345']::numeric(5,0)[]) n`,
}

func TestPostgresServerTextForms(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	if pg == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, pgSessionSettings); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT setseed(0.42)`); err != nil {
		t.Fatal(err)
	}
	codecs := map[string]*Codec{}
	codecFor := func(typ string) *Codec {
		if c, ok := codecs[typ]; ok {
			return c
		}
		col := Column{Name: "v", Type: typ}
		switch typ {
		case "numeric(30,6)":
			col.Type, col.Precision, col.Scale = "numeric", 30, 6
		case "numeric(12,2)":
			col.Type, col.Precision, col.Scale = "numeric", 12, 2
		case "numeric(5,0)":
			col.Type, col.Precision, col.Scale = "numeric", 5, 0
		}
		s, err := Derive(Table{Source: "s", Namespace: "public", Name: "t", Flavor: Postgres, Columns: []Column{col}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewCodec(s)
		if err != nil {
			t.Fatal(err)
		}
		codecs[typ] = c
		return c
	}
	n := 0
	for _, q := range pgServerValues {
		rows, err := conn.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var typ, text string
			if err := rows.Scan(&typ, &text); err != nil {
				t.Fatal(err)
			}
			var canon []byte
			switch typ {
			case "float8", "float4":
				if text == "NaN" || text == "Infinity" || text == "-Infinity" {
					canon = AppendJSONString(nil, text)
				} else {
					canon = []byte(text)
				}
			default:
				canon = AppendJSONString(nil, text)
			}
			row := `{"v":` + string(canon) + `}`
			c := codecFor(typ)
			bin, err := c.Encode(nil, []byte(row))
			if err != nil {
				t.Errorf("%s %q: %v", typ, text, err)
				continue
			}
			// Typed, not the text branch, except numeric NaN.
			if typ != "numeric(12,2)" || text != "NaN" {
				if f := c.fields[0].n; f.union && bin[0] != byte(f.typed<<1) {
					t.Errorf("%s %q went to branch %d", typ, text, bin[0]>>1)
				}
			}
			back, err := c.Decode(nil, bin)
			if err != nil || string(back) != row {
				t.Errorf("%s %q: decoded %s, %v", typ, text, back, err)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Logf("%d server values round-tripped", n)
}
