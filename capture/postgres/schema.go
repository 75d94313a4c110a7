package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/schema"
)

// Every captured table is a schema registry subject
// "{source}.{schema}.{table}" (capture.SchemaRecorder decides when a
// schema entry is due and where it goes). Its Avro schema is derived
// (schema.Derive) from the columns of the Relation message (or of the
// snapshot query) and what pgoutput does not send, read from the catalog:
// NOT NULL, constant defaults, numeric precision and scale, varchar/char
// lengths, domain base types, array element types and enum labels.
//
// Row images are stored as Avro binary (schema.Codec) of the canonical row
// JSON, and the entry carries the fingerprint. Two exceptions keep JSON
// and say so: the key-only old tuple of REPLICA IDENTITY DEFAULT/INDEX
// (metadata before_image=key; the Before is the canonical key JSON, as
// Key), and a row the codec cannot encode (logged; the entry then carries
// no fingerprint and both images stay JSON).

// schemaPositionMark is appended to the position of the entry before a
// schema entry.
const schemaPositionMark = capture.SchemaPositionMark

// tableSchema is a table's current derived schema.
type tableSchema = capture.TableSchema

// querier is a *pgx.Conn or a pgx.Tx.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// catalogColumn is what the catalog says about one column.
type catalogColumn struct {
	notNull bool
	typmod  int32
	def     string // canonical row-JSON default, "" when none or not constant
}

// constantDefault matches default expressions that are a literal, maybe
// cast (`0`, `'none'::text`, `'{}'::integer[]`, `(-1)`, `true`).
var constantDefault = regexp.MustCompile(`^\(?(?:'(?:[^']|'')*'|-?[0-9][0-9.eE+-]*|true|false)\)?(?:::[A-Za-z_][A-Za-z0-9_ ."]*(?:\([0-9, ]+\))?(?:\[\])*)*$`)

// readCatalogColumns reads NOT NULL, typmod and constant defaults of a
// table's live columns, by name.
func (s *Source) readCatalogColumns(ctx context.Context, q querier, relid uint32) (map[string]catalogColumn, error) {
	rows, err := q.Query(ctx, `SELECT a.attname, a.attnotnull, a.atttypmod, a.atttypid,
			format_type(a.atttypid, a.atttypmod), coalesce(pg_get_expr(d.adbin, d.adrelid), '')
		FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, relid)
	if err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	type pending struct {
		name, expr, typ string
		oid             uint32
	}
	out := map[string]catalogColumn{}
	var defaults []pending
	for rows.Next() {
		var (
			name, typ, expr string
			c               catalogColumn
			oid             uint32
		)
		if err := rows.Scan(&name, &c.notNull, &c.typmod, &oid, &typ, &expr); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read columns: %w", err)
		}
		out[name] = c
		if c.notNull && expr != "" && constantDefault.MatchString(expr) {
			defaults = append(defaults, pending{name, expr, typ, oid})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	for _, d := range defaults {
		// The literal is constant (checked above): PostgreSQL prints it
		// as the column's type would, which gives the canonical value.
		var text []byte
		rows, err := q.Query(ctx, "SELECT CAST("+d.expr+" AS "+d.typ+")", pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			continue
		}
		if rows.Next() {
			if raw := rows.RawValues(); len(raw) == 1 && raw[0] != nil {
				text = append([]byte(nil), raw[0]...)
			}
		}
		rows.Close()
		if rows.Err() != nil || text == nil {
			continue
		}
		if js, err := s.types.AppendValue(nil, d.oid, text); err == nil {
			c := out[d.name]
			c.def = string(js)
			out[d.name] = c
		}
	}
	return out, nil
}

// enumLabels reads an enum's labels in sort order, cached per derivation.
func enumLabels(ctx context.Context, q querier, oid uint32, cache map[uint32][]string) ([]string, error) {
	if l, ok := cache[oid]; ok {
		return l, nil
	}
	rows, err := q.Query(ctx, `SELECT enumlabel FROM pg_enum WHERE enumtypid = $1 ORDER BY enumsortorder`, oid)
	if err != nil {
		return nil, fmt.Errorf("read enum labels of type %d: %w", oid, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read enum labels of type %d: %w", oid, err)
	}
	cache[oid] = out
	return out, nil
}

// schemaColumn describes a column (or array element) of type oid with
// typmod for schema.Derive.
func (s *Source) schemaColumn(ctx context.Context, q querier, name string, oid uint32, typmod int32, enums map[uint32][]string, depth int) (schema.Column, error) {
	c := schema.Column{Name: name}
	ti, ok := s.types.Lookup(oid)
	if !ok {
		c.Type, c.Class = strconv.FormatUint(uint64(oid), 10), schema.ClassOther
		return c, nil
	}
	c.Type = ti.Name
	res := ti
	if ti.Type == 'd' {
		r, ok := s.types.Resolve(oid)
		if !ok {
			c.Class = schema.ClassOther
			return c, nil
		}
		res, c.Base = r, r.Name
	}
	switch {
	case isArrayType(res) && depth < 8:
		el, err := s.schemaColumn(ctx, q, "", res.Elem, typmod, enums, depth+1)
		if err != nil {
			return c, err
		}
		c.Elem = &el
		return c, nil
	case res.Type == 'e':
		c.Class = schema.ClassEnum
		labels, err := enumLabels(ctx, q, res.OID, enums)
		if err != nil {
			return c, err
		}
		c.EnumValues = labels
	case res.Type == 'r':
		c.Class = schema.ClassRange
	case res.Type == 'm':
		c.Class = schema.ClassMultirange
	case res.Type == 'c':
		c.Class = schema.ClassComposite
	case res.Type != 'b':
		c.Class = schema.ClassOther
	}
	if ti.Type != 'd' && typmod >= 0 { // a domain's own typmod is not read: treated as unconstrained
		switch res.OID {
		case oidNumeric:
			if typmod >= 4 {
				tm := typmod - 4
				c.Precision = int(tm>>16) & 0xffff
				c.Scale = int(((tm & 0x7ff) ^ 1024) - 1024)
			}
		case oidVarchar, oidBpchar:
			if typmod >= 4 {
				c.Length = int(typmod - 4)
			}
		case oidBit, oidVarbit:
			c.Length = int(typmod)
		}
	}
	return c, nil
}

// deriveTable derives the schema of a table (nil, no error, when the
// metadata cannot be derived: its rows then stay JSON) whose columns (names and type
// OIDs, in order) are cols and whose key columns are at key.
func (s *Source) deriveTable(ctx context.Context, q querier, relid uint32, ns, name string, cols []Column, key []int) (*tableSchema, error) {
	table := ns + "." + name
	cat, err := s.readCatalogColumns(ctx, q, relid)
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", table, err)
	}
	t := schema.Table{Source: s.cfg.Name, Namespace: ns, Name: name, Flavor: schema.Postgres}
	enums := map[uint32][]string{}
	for _, c := range cols {
		cc, known := cat[c.Name]
		typmod := int32(-1)
		if known {
			typmod = cc.typmod
		}
		sc, err := s.schemaColumn(ctx, q, c.Name, c.TypeOID, typmod, enums, 0)
		if err != nil {
			return nil, fmt.Errorf("schema of %s: %w", table, err)
		}
		sc.Nullable = !known || !cc.notNull
		sc.Default = cc.def
		t.Columns = append(t.Columns, sc)
	}
	for _, i := range key {
		t.Key = append(t.Key, cols[i].Name)
	}
	ts, err := s.compileSchema(t)
	if err != nil {
		// Not retryable: the same metadata derives the same way. The
		// table's rows stay JSON, without a fingerprint.
		s.log.Warn("cannot derive an Avro schema; rows kept as JSON", "table", table, "err", err)
		return nil, nil
	}
	return ts, nil
}

// compileSchema derives t's Avro schema and its codec.
func (s *Source) compileSchema(t schema.Table) (*tableSchema, error) { return s.schemas.Compile(t) }

// initSchemas seeds the recorded state from the journal.
func (s *Source) initSchemas(resume capture.Resume) error {
	modes, err := s.cfg.modes()
	if err != nil {
		return capture.Permanent(err)
	}
	s.schemas, err = capture.NewSchemaRecorder(modes, resume)
	return err
}

// ensureSchema emits a schema entry for table when its current schema is
// not the latest recorded one. prev is the position of the entry emitted
// just before; txid and commit time are the transaction's.
func (s *Source) ensureSchema(ctx context.Context, table string, ts *tableSchema, prev []byte, txid string, e journal.Entry) error {
	e.TxID = txid
	return s.schemas.Ensure(ctx, table, ts, capture.SchemaPosition(prev), e, s.emit, func(reason string) {
		s.incompatible.Add(1)
		s.log.Warn("incompatible schema version recorded", "subject", ts.Subject, "fingerprint", ts.FP.String(), "reason", reason)
	})
}

// IncompatibleSchemas counts the schema versions recorded by this source
// that failed their subject's compatibility check.
func (s *Source) IncompatibleSchemas() int64 { return s.incompatible.Load() }

// encodeImage turns a canonical row image into Avro. ErrEnumSymbol means
// the table gained an enum label without a Relation message: the caller
// re-derives and tries again.
func encodeImage(ts *tableSchema, img []byte) ([]byte, error) { return ts.Encode(img) }

// encodeRow encodes the images of a change of r, re-deriving once when an
// enum value is new. ok false: the codec refused a value, the images stay
// JSON and the entry carries no fingerprint.
func (s *Source) encodeRow(ctx context.Context, r *relation, before, after []byte) (b, a []byte, ok bool, err error) {
	for attempt := 0; ; attempt++ {
		if r.sch == nil {
			return before, after, false, nil
		}
		b, err = encodeImage(r.sch, before)
		if err == nil {
			a, err = encodeImage(r.sch, after)
		}
		if err == nil {
			return b, a, true, nil
		}
		if errors.Is(err, schema.ErrEnumSymbol) && attempt == 0 && r.relid != 0 {
			if r.sch, err = s.deriveTable(ctx, s.meta, r.relid, r.ns, r.name, r.cols, r.key); err != nil {
				return nil, nil, false, err
			}
			continue
		}
		s.log.Warn("row does not fit its derived schema; kept as JSON", "table", r.table, "err", err)
		return before, after, false, nil
	}
}
