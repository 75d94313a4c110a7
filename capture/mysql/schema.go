package mysql

import (
	"context"
	"strconv"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/schema"
)

// Schema versions and Avro rows (docs/formats/avro.md).
//
// Every captured table is the registry subject
// "{source}.{database}.{table}". Its Avro schema is derived (schema.Derive,
// MySQL flavour) from the ColumnInfo that the table map gives (or, with
// MINIMAL row metadata, information_schema): type, signedness, character
// set, DECIMAL precision and scale, fractional-seconds precision, BIT
// width, ENUM and SET members, nullability (the table map's null bitmap)
// and the primary key. Nothing else is read: the binlog carries no column
// defaults, and reading them from the live catalog would make the journal
// depend on when it was captured. So a NOT NULL column added to a table is
// recorded as a BACKWARD-incompatible version (no default to fill older
// rows with); table_compatibility sets another mode per table.
//
// A schema entry precedes the first row of each new shape, at the
// position of the entry before it plus one byte (capture.SchemaRecorder).
// Row images are Avro (schema.Codec) of the canonical MySQL row JSON, and
// the entry carries the fingerprint; Key stays canonical key JSON. A
// table whose shape has no Avro mapping (a type the schema package does
// not know) keeps JSON rows without a fingerprint, and says so in the log.

// schemaColumnOf describes a column for schema.Derive.
func schemaColumnOf(c *ColumnInfo) schema.Column {
	sc := schema.Column{Name: c.Name, Nullable: c.Nullable, Unsigned: c.Unsigned, Binary: c.Binary}
	switch c.Type {
	case gomysql.MYSQL_TYPE_NEWDECIMAL:
		sc.Type, sc.Precision, sc.Scale = "decimal", int(c.Meta>>8), int(c.Meta&0xff)
	case gomysql.MYSQL_TYPE_BIT:
		sc.Type, sc.Length = "bit", int(c.Meta>>8)*8+int(c.Meta&0xff)
	case gomysql.MYSQL_TYPE_ENUM:
		sc.Type, sc.EnumValues = "enum", c.Enum
	case gomysql.MYSQL_TYPE_SET:
		sc.Type, sc.EnumValues = "set", c.Set
	case gomysql.MYSQL_TYPE_STRING:
		sc.Type, sc.Length = "char", stringColumnLength(c.Meta)
		if c.Binary {
			sc.Type = "binary"
		}
	case gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING:
		sc.Type = "varchar"
		if c.Binary {
			sc.Type = "varbinary"
		}
	case gomysql.MYSQL_TYPE_BLOB, gomysql.MYSQL_TYPE_TINY_BLOB, gomysql.MYSQL_TYPE_MEDIUM_BLOB, gomysql.MYSQL_TYPE_LONG_BLOB:
		sc.Type = "text"
		if c.Binary {
			sc.Type = "blob"
		}
	case gomysql.MYSQL_TYPE_TIME2, gomysql.MYSQL_TYPE_DATETIME2, gomysql.MYSQL_TYPE_TIMESTAMP2:
		sc.Type, sc.Precision = typeName(c.Type), int(c.Meta)
	default:
		sc.Type = typeName(c.Type)
	}
	return sc
}

// schemaTable is the schema.Table of database.table with cols and primary
// key pk (column indexes in key order).
func (s *Source) schemaTable(db, table string, cols []ColumnInfo, pk []int) schema.Table {
	t := schema.Table{Source: s.cfg.Name, Namespace: db, Name: table, Flavor: schema.MySQL, Columns: make([]schema.Column, len(cols))}
	for i := range cols {
		t.Columns[i] = schemaColumnOf(&cols[i])
	}
	for _, i := range pk {
		t.Key = append(t.Key, cols[i].Name)
	}
	return t
}

// tableSchema returns the derived schema of a table shape, nil when it has
// no Avro mapping (its rows then stay JSON). Derivations are cached by
// shape, since every transaction brings a new table map.
func (s *Source) tableSchema(db, table string, cols []ColumnInfo, pk []int) *capture.TableSchema {
	sig := shapeSignature(db, table, cols, pk)
	if ts, ok := s.derived[sig]; ok {
		return ts
	}
	ts, err := s.schemas.Compile(s.schemaTable(db, table, cols, pk))
	if err != nil {
		s.log.Warn("cannot derive an Avro schema; rows kept as JSON", "table", db+"."+table, "err", err)
		ts = nil
	}
	if len(s.derived) > 4096 {
		clear(s.derived)
	}
	s.derived[sig] = ts
	return ts
}

// shapeSignature is a cache key covering everything schemaColumnOf reads.
func shapeSignature(db, table string, cols []ColumnInfo, pk []int) string {
	b := make([]byte, 0, 64+16*len(cols))
	b = append(append(append(b, db...), 0), table...)
	for i := range cols {
		c := &cols[i]
		b = append(append(b, 0), c.Name...)
		b = append(b, 0, c.Type, byte(c.Meta>>8), byte(c.Meta))
		flags := byte(0)
		if c.Nullable {
			flags |= 1
		}
		if c.Unsigned {
			flags |= 2
		}
		if c.Binary {
			flags |= 4
		}
		b = append(b, flags)
		for _, m := range c.Enum {
			b = append(append(b, 1), m...)
		}
		for _, m := range c.Set {
			b = append(append(b, 2), m...)
		}
	}
	for _, i := range pk {
		b = strconv.AppendInt(append(b, 0, 'k'), int64(i), 10)
	}
	return string(b)
}

// ensureSchema emits a schema entry at pos for table when ts is not its
// latest recorded schema; e carries the transaction's TxID and commit time.
func (s *Source) ensureSchema(ctx context.Context, table string, ts *capture.TableSchema, pos []byte, e journal.Entry) error {
	return s.schemas.Ensure(ctx, table, ts, pos, e, s.emit, func(reason string) {
		s.incompatible.Add(1)
		s.log.Warn("incompatible schema version recorded", "subject", ts.Subject, "fingerprint", ts.FP.String(), "reason", reason)
	})
}

// encodeImages turns a change's JSON images into Avro appended to buf. ok
// false: the codec refused a value (logged); the images stay JSON.
func (s *Source) encodeImages(ts *capture.TableSchema, table string, buf *[]byte, before, after []byte) (b, a []byte, ok bool) {
	enc := func(img []byte) ([]byte, error) {
		if img == nil {
			return nil, nil
		}
		start := len(*buf)
		out, err := ts.Codec.Encode(*buf, img)
		if err != nil {
			return nil, err
		}
		*buf = out
		return out[start:len(out):len(out)], nil
	}
	var err error
	if b, err = enc(before); err == nil {
		a, err = enc(after)
	}
	if err != nil {
		s.log.Warn("row does not fit its derived schema; kept as JSON", "table", table, "err", err)
		return before, after, false
	}
	return b, a, true
}

// IncompatibleSchemas counts the schema versions recorded by this source
// that failed their subject's compatibility check.
func (s *Source) IncompatibleSchemas() int64 { return s.incompatible.Load() }
