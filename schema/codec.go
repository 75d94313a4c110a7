package schema

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"
)

// Codec converts between canonical row images (JSON, see
// docs/formats/row-json.md and mysql-row-json.md) and Avro binary for one
// schema derived by this package. It is compiled from the schema alone,
// so anyone holding the schema (from the registry, by fingerprint or id)
// decodes exactly as the writer encoded. A Codec is immutable and safe
// for concurrent use.
type Codec struct {
	schema avro.Schema
	flavor Flavor
	fields []codecField
}

type codecField struct {
	column string // the source column name
	key    []byte // `"column":` as it appears in a row image
	n      *node
}

// node is the compiled form of a column's (or array item's) Avro type.
type node struct {
	kind tkind
	// Branch indexes in the union, -1 when absent. union is false when
	// the type is the typed branch alone.
	union                          bool
	null, typed, multi, text, unch int
	textRecord                     bool // text branch is a {text: string} record
	prec, scale                    int  // tDecimal
	fsp                            int  // MySQL temporal: fraction digits
	symbols                        []string
	symIdx                         map[string]int
	emptySym                       int   // MySQL enum: index of the "" member, -1
	elem                           *node // tArray: the items node
}

// NewCodec compiles a codec for a schema made by Derive (and registered,
// fetched or parsed since). Other schemas fail with ErrUnsupportedSchema.
func NewCodec(s avro.Schema) (*Codec, error) {
	rec, ok := s.(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("codec: schema of type %s, want a record: %w", s.Type(), ErrUnsupportedSchema)
	}
	c := &Codec{schema: s}
	switch {
	case strings.HasPrefix(rec.FullName(), "cairn.postgres."):
		c.flavor = Postgres
	case strings.HasPrefix(rec.FullName(), "cairn.mysql."):
		c.flavor = MySQL
	default:
		return nil, fmt.Errorf("codec: record %s is not in a cairn.postgres or cairn.mysql namespace: %w", rec.FullName(), ErrUnsupportedSchema)
	}
	if v, ok := rec.Prop("cairn.format").(float64); ok && v != formatVersion {
		return nil, fmt.Errorf("codec: record %s has cairn.format %v, this code knows %d: %w", rec.FullName(), v, formatVersion, ErrUnsupportedSchema)
	}
	for _, f := range rec.Fields() {
		name, ok := sourceName(f.Name())
		if !ok {
			return nil, fmt.Errorf("codec: field %q is not an encoded column name: %w", f.Name(), ErrUnsupportedSchema)
		}
		n, err := c.compile(f.Type(), true, 0)
		if err != nil {
			return nil, fmt.Errorf("codec: field %q: %w", f.Name(), err)
		}
		key := AppendJSONString(nil, name)
		c.fields = append(c.fields, codecField{column: name, key: append(key, ':'), n: n})
	}
	return c, nil
}

// Schema returns the codec's schema.
func (c *Codec) Schema() avro.Schema { return c.schema }

// Flavor returns the source flavor the schema was derived for.
func (c *Codec) Flavor() Flavor { return c.flavor }

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrUnsupportedSchema)...)
}

// compile builds the node of a column type (column) or array item type.
func (c *Codec) compile(s avro.Schema, column bool, depth int) (*node, error) {
	if depth > 16 {
		return nil, unsupported("types nest too deep")
	}
	n := &node{null: -1, typed: -1, multi: -1, text: -1, unch: -1, emptySym: -1}
	type branch struct {
		i int
		s avro.Schema
	}
	var others []branch
	if u, ok := s.(*avro.UnionSchema); ok {
		n.union = true
		for i, b := range u.Types() {
			b = deref(b)
			switch {
			case b.Type() == avro.Null:
				n.null = i
			case column && isNamed(b, nameUnchanged):
				n.unch = i
			default:
				others = append(others, branch{i, b})
			}
		}
	} else {
		others = []branch{{-1, deref(s)}}
	}
	if len(others) == 0 {
		return nil, unsupported("a union with no value branch")
	}
	var typed avro.Schema
	for _, b := range others {
		switch {
		case len(others) == 1:
			n.typed, typed = b.i, b.s
		case b.s.Type() == avro.Record && shortName(b.s) == nameMultiDim:
			n.multi = b.i
		case b.s.Type() == avro.String && !hasLogical(b.s):
			n.text = b.i
		case b.s.Type() == avro.Record && isTextRecord(b.s):
			n.text, n.textRecord = b.i, true
			if err := c.textRecordParams(b.s, n); err != nil {
				return nil, err
			}
		default:
			if typed != nil {
				return nil, unsupported("two value branches %s and %s", typed.Type(), b.s.Type())
			}
			n.typed, typed = b.i, b.s
		}
	}
	if typed == nil {
		return nil, unsupported("no typed branch")
	}
	if err := c.typed(typed, n, depth); err != nil {
		return nil, err
	}
	if n.multi >= 0 {
		if n.kind != tArray {
			return nil, unsupported("MultiDim branch beside %s", typed.Type())
		}
		u := others[0].s
		for _, b := range others {
			if b.i == n.multi {
				u = b.s
			}
		}
		if err := checkMultiDim(u); err != nil {
			return nil, err
		}
	}
	if c.flavor == MySQL && (n.kind == tTimeMicros || n.kind == tTimestamp || n.kind == tLocalTimestamp) && !n.textRecord {
		return nil, unsupported("MySQL temporal type without its text record (which names the fsp)")
	}
	return n, nil
}

func hasLogical(s avro.Schema) bool {
	if l, ok := s.(avro.LogicalTypeSchema); ok {
		return l.Logical() != nil
	}
	return false
}

func isNamed(s avro.Schema, full string) bool {
	ns, ok := s.(avro.NamedSchema)
	return ok && ns.FullName() == full
}

func shortName(s avro.Schema) string {
	if ns, ok := s.(avro.NamedSchema); ok {
		return ns.Name()
	}
	return ""
}

// isTextRecord: a cairn.mysql.* record with the single field text:string.
func isTextRecord(s avro.Schema) bool {
	r, ok := s.(*avro.RecordSchema)
	if !ok || r.Namespace() != nsMySQL || len(r.Fields()) != 1 {
		return false
	}
	f := r.Fields()[0]
	return f.Name() == "text" && f.Type().Type() == avro.String
}

// textRecordParams reads the fsp from a MySQL text record name (Time3,
// Datetime6, Timestamp0; Date has none).
func (c *Codec) textRecordParams(s avro.Schema, n *node) error {
	name := shortName(s)
	for _, p := range []string{"Timestamp", "Datetime", "Time"} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			fsp, err := strconv.Atoi(rest)
			if err != nil || fsp < 0 || fsp > 6 {
				return unsupported("text record %s", name)
			}
			n.fsp = fsp
			return nil
		}
	}
	if name != "Date" {
		return unsupported("text record %s", name)
	}
	return nil
}

func checkMultiDim(s avro.Schema) error {
	r := s.(*avro.RecordSchema)
	fs := r.Fields()
	if len(fs) != 2 || fs[0].Name() != "dims" || fs[1].Name() != "elements" {
		return unsupported("MultiDim record %s", r.FullName())
	}
	return nil
}

// typed sets n's kind and parameters from the typed branch.
func (c *Codec) typed(s avro.Schema, n *node, depth int) error {
	var logical avro.LogicalSchema
	if l, ok := s.(avro.LogicalTypeSchema); ok {
		logical = l.Logical()
	}
	lt := avro.LogicalType("")
	if logical != nil {
		lt = logical.Type()
	}
	switch s.Type() {
	case avro.Int:
		switch lt {
		case "":
			n.kind = tInt
		case avro.Date:
			n.kind = tDate
		default:
			return unsupported("int with logical type %s", lt)
		}
	case avro.Long:
		switch lt {
		case "":
			n.kind = tLong
		case avro.TimeMicros:
			n.kind = tTimeMicros
		case avro.TimestampMicros:
			n.kind = tTimestamp
		case avro.LocalTimestampMicros:
			n.kind = tLocalTimestamp
		default:
			return unsupported("long with logical type %s", lt)
		}
	case avro.Float:
		n.kind = tFloat
	case avro.Double:
		n.kind = tDouble
	case avro.Boolean:
		n.kind = tBool
	case avro.String:
		n.kind = tString
		if lt == avro.UUID {
			n.kind = tUUID
		} else if lt != "" {
			return unsupported("string with logical type %s", lt)
		}
	case avro.Bytes:
		switch lt {
		case "":
			n.kind = tBytes
		case avro.Decimal:
			d := logical.(*avro.DecimalLogicalSchema)
			n.kind, n.prec, n.scale = tDecimal, d.Precision(), d.Scale()
		default:
			return unsupported("bytes with logical type %s", lt)
		}
	case avro.Fixed:
		f := s.(*avro.FixedSchema)
		if f.FullName() != nameUInt64 || f.Size() != uint64FixedSize {
			return unsupported("fixed %s", f.FullName())
		}
		n.kind = tUInt64
	case avro.Enum:
		e := s.(*avro.EnumSchema)
		n.kind, n.symbols = tEnum, e.Symbols()
		n.symIdx = make(map[string]int, len(n.symbols))
		for i, sym := range n.symbols {
			n.symIdx[sym] = i
			if c.flavor == MySQL && sym == mysqlEmptySymbol {
				n.emptySym = i
			}
		}
	case avro.Record:
		switch full := s.(avro.NamedSchema).FullName(); full {
		case nameTimeTZ:
			n.kind = tTimeTZ
		case nameInterval:
			n.kind = tInterval
		case namePGOther, nameMySQLOther:
			n.kind = tOther
		default:
			return unsupported("record %s", full)
		}
	case avro.Array:
		items := s.(*avro.ArraySchema).Items()
		el, err := c.compile(items, false, depth+1)
		if err != nil {
			return err
		}
		if el.null < 0 {
			return unsupported("array items without null")
		}
		n.kind, n.elem = tArray, el
	default:
		return unsupported("type %s", s.Type())
	}
	return nil
}
